"""Every dbt model, seed and test as Dagster assets and asset checks (dagster-dbt)."""


import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Config, Failure, MetadataValue, Output
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from siyu.dbt_partial_parse import PARTIAL_PARSE, PROFILE_RECORD, keep_partial_parse, prepare_partial_parse
from siyu.settings import DBT_LAYERS, DBT_PROJECT_DIR, dbt_executable

from ..resources import WarehouseResource

NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
KEPT_RUN_TARGETS = 3  # per-run dbt target folders kept for debugging (each holds compiled SQL and run results)


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """`dbt parse` when the manifest is missing or older than any project file (a fresh clone, an edit).

    Several processes may load the definitions at once (parallel tests, the UI and a build):
    a file lock serialises them, and dbt parses into a private folder whose manifest is then
    renamed into place, so no reader ever sees a half-written manifest.
    """
    target = project_dir / "target"
    target.mkdir(parents=True, exist_ok=True)
    manifest = target / "manifest.json"
    sources = [p for folder in ("models", "macros", "tests", "analyses") for p in (project_dir / folder).rglob("*")]
    sources += [project_dir / "dbt_project.yml", *(project_dir.parent / "seeds").glob("*.*")]
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        newest = max((p.stat().st_mtime for p in sources if p.is_file()), default=0)
        stale = not manifest.exists() or manifest.stat().st_mtime < newest
        if stale or not (target / PARTIAL_PARSE).exists():
            scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
            try:
                subprocess.run([dbt_executable(), "parse", "--quiet", "--project-dir", str(project_dir),
                                "--profiles-dir", str(project_dir), "--target-path", str(scratch)],
                               cwd=project_dir, check=True)
                # dagster-dbt copies target/partial_parse.msgpack into each run's target folder:
                # dbt then re-parses only what changed instead of the whole project on every build
                if (scratch / PARTIAL_PARSE).exists():
                    # the record of the last build's profile no longer describes the project's parse
                    (target / PROFILE_RECORD).unlink(missing_ok=True)
                    os.replace(scratch / PARTIAL_PARSE, target / PARTIAL_PARSE)
                os.replace(scratch / "manifest.json", manifest)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    return manifest


class SiyuDbtTranslator(DagsterDbtTranslator):
    """Asset keys are <schema>/<model> (staging/stg_…, marts/dim_member); groups are the layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 1 and fqn[1] in DBT_LAYERS else "marts"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return ["team:analytics-engineering"]


def dbt_project(project_dir: Path = DBT_PROJECT_DIR) -> DbtProject:
    return DbtProject(project_dir=project_dir, profiles_dir=project_dir)


def _markdown_preview(con: duckdb.DuckDBPyConnection, relation: str, limit: int = 5) -> str:
    cursor = con.execute(f"select * from {relation} limit {limit}")
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    def cell(v: object) -> str:
        return str(v).replace("|", "/")[:40]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _table_metadata(db_path: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Row counts of every built table, and a preview of each mart (read after dbt released the file)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    con = duckdb.connect(db_path, read_only=True)
    try:
        tables = con.execute("""select schema_name, table_name, estimated_size from duckdb_tables()
                                where schema_name in ('staging', 'intermediate', 'marts', 'reference')""").fetchall()
        for schema, table, _ in tables:
            relation = f'{schema}."{table}"'
            meta: dict[str, Any] = {"dagster/row_count": con.execute(f"select count(*) from {relation}").fetchone()[0]}
            if schema == "marts":
                meta["preview"] = MetadataValue.md(_markdown_preview(con, relation))
            out[(schema, table)] = meta
    finally:
        con.close()
    return out


def run_target_path(target: Path, run_id: str) -> Path:
    """A dbt invocation's own target folder, named as dagster-dbt names them: prune_run_targets and
    the run profile (siyu.run_profile.find_run_results) find a run's folder by this name."""
    return target / f"dbt_models-{run_id[:7]}-{uuid.uuid4().hex[:7]}"


def prune_run_targets(project_dir: Path = DBT_PROJECT_DIR, keep: int = KEPT_RUN_TARGETS) -> None:
    """dagster-dbt gives every invocation its own target folder (≈14 MB at the demo scale); a daily
    build would pile up gigabytes a year. Keep the newest few, and any touched in the last hour
    (another build on the same project may still be using its folder)."""
    runs = sorted((p for p in (project_dir / "target").glob("dbt_models-*") if p.is_dir()),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        if time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)


def _failed_nodes(invocation) -> list[str]:
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # no artifact: dbt failed before running anything
        return []
    return [f"{r['unique_id']}: {r['status']}" for r in results if r["status"] in ("error", "fail")]


class DbtBuildConfig(Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental models whole (`dbt build --full-refresh`): after a change to the "
                    "dbt project, or when rows were removed from raw outside a landing load.")


def build_dbt_assets(project_dir: Path = DBT_PROJECT_DIR) -> AssetsDefinition:
    """Every dbt node as an asset or check; parses the project first when its manifest is stale."""

    @dbt_assets(manifest=ensure_manifest(project_dir), project=dbt_project(project_dir),
                dagster_dbt_translator=SiyuDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)))
    def dbt_models(context: AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource,
                   warehouse: WarehouseResource) -> Iterator[Any]:
        # Staging models are incremental (macros/incremental_staging.sql): a run re-derives only the
        # landing partitions loaded since the last one.
        run_target = run_target_path(project_dir / "target", context.run_id)
        if prepare_partial_parse(project_dir / "target", run_target, Path(warehouse.work_db)):
            context.log.info("dbt reuses the last parse made for this warehouse's file name "
                             "(restamped for its folder if need be)")
        # dbt's unit tests (fixtures, no warehouse data) run in the test suite, not in production builds:
        # an incremental model's unit test needs its table, which a first build has not made yet
        invocation = dbt.cli(["build", *(["--full-refresh"] if config.full_refresh else []), *NO_UNIT_TESTS], context=context,
                             target_path=run_target, raise_on_error=False)
        events = list(invocation.stream())  # dbt holds the DuckDB file until it exits
        keep_partial_parse(Path(invocation.target_path), project_dir / "target")
        prune_run_targets(project_dir)
        metadata = _table_metadata(warehouse.work_db)
        for event in events:
            if isinstance(event, Output):
                key = context.asset_key_for_output(event.output_name)
                extra = metadata.get(tuple(key.path)) if len(key.path) == 2 else None
                if extra:
                    event = event.with_metadata({**event.metadata, **extra})
            yield event
        if not invocation.is_successful():
            failed = _failed_nodes(invocation)
            raise Failure(description="dbt build failed: " + "; ".join(failed[:20]),
                          metadata={"failed_nodes": MetadataValue.md("\n".join(f"- {f}" for f in failed) or "see logs")})

    return dbt_models


def mart_keys(dbt_models: AssetsDefinition) -> list[AssetKey]:
    """The marts' asset keys: what publishing, the docs site and the dashboard wait for."""
    return sorted((k for k in dbt_models.keys if k.path[0] == "marts"), key=lambda k: k.to_user_string())
