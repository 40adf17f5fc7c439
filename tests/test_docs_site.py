"""The dbt docs site is regenerated only when the dbt project changed, from the build's own compiled
manifest when that build ran every node (dagster_project/assets/docs.py)."""

from __future__ import annotations

import json
from pathlib import Path

from dagster_project.assets.docs import FINGERPRINT_FILE, compiled_run_manifest, current_site
from siyu.fingerprint import dbt_project_fingerprint


def _site(folder: Path, stamp: str | None, files: tuple[str, ...] = ("index.html", "manifest.json", "catalog.json")) -> Path:
    folder.mkdir()
    for name in files:
        (folder / name).write_text("{}")
    if stamp is not None:
        (folder / FINGERPRINT_FILE).write_text(stamp + "\n")
    return folder


def test_a_site_from_the_same_project_is_current(tmp_path: Path):
    fingerprint = dbt_project_fingerprint()
    site = current_site(_site(tmp_path / "docs", fingerprint))
    assert site is not None and set(site) == {"index.html", "manifest.json", "catalog.json"}


def test_another_project_a_missing_stamp_or_file_means_regenerate(tmp_path: Path):
    fingerprint = dbt_project_fingerprint()
    assert current_site(_site(tmp_path / "other", "0" * 64)) is None
    assert current_site(_site(tmp_path / "unstamped", None)) is None
    assert current_site(_site(tmp_path / "partial", fingerprint, ("index.html", "manifest.json"))) is None


def test_the_fingerprint_follows_the_dbt_project(tmp_path: Path, monkeypatch):
    import siyu.fingerprint as fp

    before = fp.dbt_project_fingerprint()
    project = tmp_path / "dbt_project"
    for folder in ("models", "macros", "tests"):
        (project / folder).mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: x\n")
    (project / "models" / "a.sql").write_text("select 1")
    monkeypatch.setattr(fp, "DBT_PROJECT_DIR", project)
    monkeypatch.setattr(fp, "REPO_ROOT", tmp_path)
    first = fp.dbt_project_fingerprint()
    (project / "models" / "a.sql").write_text("select 2")
    assert first != before and fp.dbt_project_fingerprint() != first


def _run_target(folder: Path, nodes: dict[str, str], ran: list[str]) -> Path:
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"nodes": {
        uid: {"unique_id": uid, "resource_type": kind.split(":")[0],
              "config": {"materialized": kind.split(":")[1]} if ":" in kind else {}}
        for uid, kind in nodes.items()}}))
    (folder / "run_results.json").write_text(json.dumps({"results": [{"unique_id": uid} for uid in ran]}))
    return folder


def test_the_docs_reuse_a_builds_manifest_only_when_it_compiled_every_model_and_test(tmp_path: Path):
    nodes = {"model.siyu.a": "model:table", "model.siyu.e": "model:ephemeral", "test.siyu.t": "test",
             "seed.siyu.s": "seed"}
    complete = _run_target(tmp_path / "complete", nodes, ["model.siyu.a", "test.siyu.t"])
    # seeds have no SQL to compile; an ephemeral model is compiled into the models that select from it
    assert compiled_run_manifest(complete) == complete / "manifest.json"
    assert compiled_run_manifest(_run_target(tmp_path / "subset", nodes, ["model.siyu.a"])) is None
    assert compiled_run_manifest(tmp_path / "missing") is None
    assert compiled_run_manifest(None) is None

