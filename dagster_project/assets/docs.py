"""dbt docs for analysts: `dbt docs generate` over the checked warehouse, published beside it.

The site documents every model and column from the dbt YAML, the catalog (types and the
comments persisted into DuckDB; dbt-duckdb records no table statistics) and the exposures (the operator dashboard and the operator
queries under queries/). It runs after `published_warehouse`: dbt-duckdb opens the working
database for writing and DuckDB allows one writer process, so it must run when nothing else
(dbt build, the raw loaders, the publish checkpoint) holds that file. It reads the working
database, never the published file readers have open.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Failure, MaterializeResult, MetadataValue, asset

from siyu.dbt_partial_parse import seed_partial_parse
from siyu.docs_server import served_folders, url_for
from siyu.fingerprint import built_by_this_project, stamp_with_this_project
from siyu.run_profile import find_run_results
from siyu.settings import DBT_PROJECT_DIR, dbt_executable

from ..resources import WarehouseResource, dbt_global_flags

SITE_FILES = ("index.html", "manifest.json", "catalog.json", "static_index.html")


FINGERPRINT_FILE = ".dbt-project-fingerprint"


def current_site(out_dir: Path) -> dict[str, Path] | None:
    """The site in `out_dir` when it was generated from this very dbt project: DuckDB's catalog holds
    types and comments but no statistics, so new data alone does not change a page."""
    written = {name: out_dir / name for name in SITE_FILES if (out_dir / name).exists()}
    if not {"index.html", "manifest.json", "catalog.json"} <= written.keys():
        return None
    return written if built_by_this_project(out_dir / FINGERPRINT_FILE) else None


def compiled_run_manifest(run_target: Path | None) -> Path | None:
    """The manifest a dbt build wrote, when that build ran every model and test: it holds the compiled
    SQL of each, so the docs need not compile the project again (≈ 1/3 of `dbt docs generate`)."""
    if run_target is None:
        return None
    manifest_path, results_path = run_target / "manifest.json", run_target / "run_results.json"
    try:
        nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"].values()
        ran = {r["unique_id"] for r in json.loads(results_path.read_text(encoding="utf-8"))["results"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # an ephemeral model is no node of the run (dbt compiles it into the models that select from it)
    wanted = {n["unique_id"] for n in nodes if n.get("resource_type") in ("model", "test")
              and (n.get("config") or {}).get("materialized") != "ephemeral"}
    return manifest_path if wanted and wanted <= ran else None


def generate_docs(work_db: Path, out_dir: Path, project_dir: Path = DBT_PROJECT_DIR,
                  run_manifest: Path | None = None) -> dict[str, Path]:
    """Run `dbt docs generate` against `work_db` and copy the static site into `out_dir`; with the
    manifest of a complete build of this project (`compiled_run_manifest`), without compiling again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / FINGERPRINT_FILE).unlink(missing_ok=True)  # a half-replaced site is never taken as current
    with tempfile.TemporaryDirectory(prefix="dbt_docs_", dir=out_dir.parent) as tmp:
        target = Path(tmp) / "target"
        # the dbt build just parsed this very project for this warehouse: reuse it (≈ 4 s less at any scale)
        seed_partial_parse(project_dir / "target", target, work_db)
        compile_flag = []
        if run_manifest is not None:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_manifest, target / "manifest.json")
            compile_flag = ["--no-compile"]
        env = dict(os.environ, SIYU_WORK_DB=str(work_db))
        result = subprocess.run(
            # dbt's file log as the build's (resources.dbt_global_flags), in the temporary target if any:
            # a failure's output is in the Failure below
            [dbt_executable(), *dbt_global_flags(), "docs", "generate", "--static", *compile_flag,
             "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--target-path", str(target),
             "--log-path", str(target)],
            cwd=project_dir, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise Failure(description="dbt docs generate failed",
                          metadata={"dbt_output": MetadataValue.md(f"```\n{(result.stdout + result.stderr)[-6000:]}\n```")})
        written: dict[str, Path] = {}
        for name in SITE_FILES:
            source = target / name
            if not source.exists():
                if name == "static_index.html":  # optional: dbt versions without --static
                    continue
                raise Failure(description=f"dbt docs generate wrote no {name}")
            # replace file by file, atomically: a browser reading the old site never sees a half file
            partial = out_dir / f".{name}.partial"
            shutil.copyfile(source, partial)
            os.replace(partial, out_dir / name)
            written[name] = out_dir / name
    return written


def dbt_docs(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    out_dir = Path(warehouse.published_db).parent / "dbt_docs"
    written = current_site(out_dir)
    if written is None:
        run_results = find_run_results(context.run_id, target=DBT_PROJECT_DIR / "target")
        run_manifest = compiled_run_manifest(run_results.parent if run_results else None)
        context.log.info("dbt docs: " + ("the build's compiled manifest is reused" if run_manifest
                                         else "the project is compiled for the docs (no manifest of a build of every node)"))
        written = generate_docs(Path(warehouse.work_db), out_dir, run_manifest=run_manifest)
        stamp_with_this_project(out_dir / FINGERPRINT_FILE)
    else:
        context.log.info("dbt project unchanged since the docs were generated: the site is current")
    manifest = json.loads(written["manifest.json"].read_text(encoding="utf-8"))
    catalog = json.loads(written["catalog.json"].read_text(encoding="utf-8"))
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    context.log.info(f"dbt docs written to {written['index.html']}")
    metadata = {
        "path": MetadataValue.path(str(written["index.html"])),
        "site": MetadataValue.url(url_for(written["index.html"], served_folders(Path(warehouse.published_db),
                                                                              Path(warehouse.quality_docs_dir))) or ""),
        "models_documented": len(models),
        "tables_in_catalog": len(catalog.get("nodes", {})),
        "exposures": MetadataValue.json(sorted(e["name"] for e in manifest.get("exposures", {}).values())),
    }
    if "static_index.html" in written:
        metadata["static_site"] = MetadataValue.path(str(written["static_index.html"]))
    return MaterializeResult(metadata=metadata)


def build_dbt_docs(marts: list[AssetKey]) -> AssetsDefinition:
    """The docs asset, after every mart and the publish step."""
    return asset(
        key=AssetKey(["dbt_docs"]),
        group_name="docs",
        deps=[*marts, AssetKey(["published_warehouse"])],
        description="dbt docs site (models, columns, lineage, catalog, exposures) for the published warehouse: "
                    "`dbt docs generate` over the checked working database, copied to `<warehouse dir>/dbt_docs/`. "
                    "Serve that folder (e.g. `python -m http.server -d data/warehouse/dbt_docs`) and open index.html, "
                    "or open static_index.html straight from disk.",
        kinds={"dbt", "html"},
        owners=["team:analytics-engineering"],
    )(dbt_docs)
