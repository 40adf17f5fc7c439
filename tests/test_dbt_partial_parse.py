"""dbt's partial parse reused by a warehouse in another folder (siyu.dbt_partial_parse)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest

from siyu.dbt_partial_parse import (
    BY_NAME,
    KEPT_NAMES,
    PARTIAL_PARSE,
    PROFILE_RECORD,
    keep_partial_parse,
    prepare_partial_parse,
    profile_checksum,
    seed_partial_parse,
)
from siyu.settings import dbt_executable
from tests.harness import REPO

PROJECT = REPO / "dbt_project"

# the connection info dbt's duckdb credentials give, as our plugin records it (siyu.dbt_plugin)
RECORD_SCRIPT = """
import json, os, sys
from argparse import Namespace
from dbt_common.context import set_invocation_context
from dbt.flags import set_from_args
from dbt.config.runtime import load_profile
set_invocation_context(os.environ.copy())
set_from_args(Namespace(profiles_dir=sys.argv[1]), None)
profile = load_profile(sys.argv[1], {}, None, None)
print(json.dumps([[k, v] for k, v in profile.credentials.connection_info()], default=str))
"""


def _parse(work_db: Path, target: Path) -> str:
    env = dict(os.environ, SIYU_WORK_DB=str(work_db), DBT_PROFILES_DIR=str(PROJECT))
    result = subprocess.run([dbt_executable(), "parse", "--project-dir", str(PROJECT), "--target-path", str(target)],
                            cwd=PROJECT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


def _record(work_db: Path, target: Path) -> None:
    env = dict(os.environ, SIYU_WORK_DB=str(work_db))
    result = subprocess.run([sys.executable, "-c", RECORD_SCRIPT, str(PROJECT)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    (target / PROFILE_RECORD).write_text(result.stdout)


@pytest.mark.e2e
def test_dbt_accepts_a_parse_restamped_for_another_folder(tmp_path):
    first_db = tmp_path / "a" / "warehouse.work.duckdb"
    saved = tmp_path / "saved"
    _parse(first_db, saved)
    _record(first_db, saved)
    stored = msgpack.unpackb((saved / PARTIAL_PARSE).read_bytes(), raw=False, strict_map_key=False)
    pairs = [tuple(p) for p in json.loads((saved / PROFILE_RECORD).read_text())]
    assert stored["state_check"]["profile_hash"]["checksum"] == profile_checksum(pairs), "our recipe is dbt's"

    # without the restamp dbt re-parses in full: the profile holds the path
    (tmp_path / "plain").mkdir()
    shutil.copy(saved / PARTIAL_PARSE, tmp_path / "plain" / PARTIAL_PARSE)
    assert "Unable to do partial parsing because profile has changed" in _parse(tmp_path / "b" / "warehouse.work.duckdb",
                                                                                 tmp_path / "plain")
    run_target = tmp_path / "run"
    assert prepare_partial_parse(saved, run_target, tmp_path / "c" / "warehouse.work.duckdb")
    out = _parse(tmp_path / "c" / "warehouse.work.duckdb", run_target)
    assert "Unable to do partial parsing" not in out
    manifest = json.loads((run_target / "manifest.json").read_text())
    assert manifest["nodes"]["model.siyu.dim_member"]["relation_name"] == '"warehouse"."marts"."dim_member"'


def _saved(folder: Path, work_db: str, recorded_path: str | None = None) -> list[tuple[str, object]]:
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [("database", "warehouse"), ("path", work_db), ("schema", "main"), ("settings", {"memory_limit": "6GB"})]
    data = {"state_check": {"profile_hash": {"name": "sha256", "checksum": profile_checksum(pairs)}}, "nodes": {"x": 1}}
    (folder / PARTIAL_PARSE).write_bytes(msgpack.packb(data, use_bin_type=True))
    recorded = [(k, recorded_path if k == "path" and recorded_path else v) for k, v in pairs]
    (folder / PROFILE_RECORD).write_text(json.dumps([list(p) for p in recorded]))
    return pairs


def test_restamps_only_a_parse_of_the_same_file_name_in_another_folder(tmp_path):
    saved, run = tmp_path / "saved", tmp_path / "run"
    pairs = _saved(saved, "/x/one/warehouse.work.duckdb")
    assert prepare_partial_parse(saved, run, Path("/y/two/warehouse.work.duckdb"))
    data = msgpack.unpackb((run / PARTIAL_PARSE).read_bytes(), raw=False, strict_map_key=False)
    moved = [(k, "/y/two/warehouse.work.duckdb" if k == "path" else v) for k, v in pairs]
    assert data["state_check"]["profile_hash"]["checksum"] == profile_checksum(moved)
    assert data["nodes"] == {"x": 1}


@pytest.mark.parametrize("case", ["same folder", "other file name", "record of another parse", "no record"])
def test_leaves_dbt_to_decide_otherwise(tmp_path, case):
    saved, run = tmp_path / "saved", tmp_path / "run"
    work_db = {"same folder": "/x/one/warehouse.work.duckdb", "other file name": "/y/two/siyu.work.duckdb"}.get(
        case, "/y/two/warehouse.work.duckdb")
    _saved(saved, "/x/one/warehouse.work.duckdb",
           recorded_path="/z/warehouse.work.duckdb" if case == "record of another parse" else None)
    if case == "no record":
        (saved / PROFILE_RECORD).unlink()
    assert not prepare_partial_parse(saved, run, Path(work_db))
    assert not (run / PARTIAL_PARSE).exists()


def test_a_command_of_our_own_gets_the_parse_of_its_warehouse(tmp_path):
    """`dbt docs generate` runs in a fresh target folder: seeded with the build's parse, unchanged for the
    same warehouse, restamped for a same-named one elsewhere, nothing otherwise."""
    saved = tmp_path / "saved"
    _saved(saved, "/x/one/warehouse.work.duckdb")
    assert seed_partial_parse(saved, tmp_path / "same", Path("/x/one/warehouse.work.duckdb"))
    assert (tmp_path / "same" / PARTIAL_PARSE).read_bytes() == (saved / PARTIAL_PARSE).read_bytes()
    assert seed_partial_parse(saved, tmp_path / "moved", Path("/y/two/warehouse.work.duckdb"))
    assert (tmp_path / "moved" / PARTIAL_PARSE).read_bytes() != (saved / PARTIAL_PARSE).read_bytes()
    assert not seed_partial_parse(saved, tmp_path / "other", Path("/y/two/siyu.work.duckdb"))
    assert not (tmp_path / "other" / PARTIAL_PARSE).exists()


def _run_target(folder: Path, work_db: str, marker: int) -> Path:
    """A run's target folder as dbt and our plugin leave it: a parse (told apart by `marker`) and its record."""
    _saved(folder, work_db)
    data = msgpack.unpackb((folder / PARTIAL_PARSE).read_bytes(), raw=False, strict_map_key=False)
    data["nodes"] = {"marker": marker}
    (folder / PARTIAL_PARSE).write_bytes(msgpack.packb(data, use_bin_type=True))
    return folder


def _marker(folder: Path) -> int:
    return msgpack.unpackb((folder / PARTIAL_PARSE).read_bytes(), raw=False, strict_map_key=False)["nodes"]["marker"]


def test_each_database_name_keeps_its_own_last_parse(tmp_path):
    """Builds alternating between differently named warehouses: each name finds the last parse made
    for it (copied as it is for the same database, restamped for the same name elsewhere), not the
    project's last parse, which was made for another name and would make dbt parse in full."""
    project = tmp_path / "target"
    project.mkdir()
    keep_partial_parse(_run_target(tmp_path / "run1", "/a/warehouse.work.duckdb", 1), project)
    keep_partial_parse(_run_target(tmp_path / "run2", "/b/siyu.work.duckdb", 2), project)
    assert _marker(project) == 2  # the project's last parse, as dagster-dbt copies it
    assert sorted(p.name for p in (project / BY_NAME).iterdir()) == ["siyu.work.duckdb", "warehouse.work.duckdb"]

    assert prepare_partial_parse(project, tmp_path / "same", Path("/a/warehouse.work.duckdb"))
    assert _marker(tmp_path / "same") == 1
    assert (tmp_path / "same" / PARTIAL_PARSE).read_bytes() == \
        (project / BY_NAME / "warehouse.work.duckdb" / PARTIAL_PARSE).read_bytes()
    assert prepare_partial_parse(project, tmp_path / "moved", Path("/c/warehouse.work.duckdb"))
    moved = msgpack.unpackb((tmp_path / "moved" / PARTIAL_PARSE).read_bytes(), raw=False, strict_map_key=False)
    assert moved["nodes"] == {"marker": 1}
    pairs = _saved(tmp_path / "x", "/a/warehouse.work.duckdb")
    restamped = [(k, "/c/warehouse.work.duckdb" if k == "path" else v) for k, v in pairs]
    assert moved["state_check"]["profile_hash"]["checksum"] == profile_checksum(restamped)
    # the project's last parse is for siyu.work.duckdb itself: dagster-dbt copies it, a command of ours gets a copy
    assert not prepare_partial_parse(project, tmp_path / "last", Path("/b/siyu.work.duckdb"))
    assert seed_partial_parse(project, tmp_path / "seeded", Path("/b/siyu.work.duckdb"))
    assert _marker(tmp_path / "seeded") == 2
    assert not prepare_partial_parse(project, tmp_path / "new", Path("/d/w.work.duckdb"))  # a name never built
    assert not (tmp_path / "new" / PARTIAL_PARSE).exists()


def test_a_project_parse_its_record_does_not_describe_does_not_hide_the_names_parse(tmp_path):
    """`dagster_project.assets.dbt.ensure_manifest` replaces the project's parse (a `dbt parse` after the
    project changed) and drops the record; a record left from another parse would not match either.
    The name's own kept parse is then used; a run whose record does not describe its parse (dbt failed
    before writing one) is not kept for its name."""
    project = tmp_path / "target"
    project.mkdir()
    keep_partial_parse(_run_target(tmp_path / "run1", "/a/warehouse.work.duckdb", 1), project)
    _saved(tmp_path / "other", "/b/warehouse.work.duckdb", recorded_path="/a/warehouse.work.duckdb")
    shutil.copyfile(tmp_path / "other" / PARTIAL_PARSE, project / PARTIAL_PARSE)  # record of run1, parse of /b
    assert seed_partial_parse(project, tmp_path / "same", Path("/a/warehouse.work.duckdb"))
    assert _marker(tmp_path / "same") == 1
    (project / PROFILE_RECORD).unlink()
    assert prepare_partial_parse(project, tmp_path / "moved", Path("/c/warehouse.work.duckdb"))
    assert _marker(tmp_path / "moved") == 1

    failed = _run_target(tmp_path / "failed", "/a/warehouse.work.duckdb", 2)
    shutil.copyfile(tmp_path / "other" / PARTIAL_PARSE, failed / PARTIAL_PARSE)  # not the parse its record describes
    keep_partial_parse(failed, project)
    assert _marker(project / BY_NAME / "warehouse.work.duckdb") == 1


def test_only_the_latest_names_keep_a_parse(tmp_path):
    project = tmp_path / "target"
    project.mkdir()
    for i in range(KEPT_NAMES + 2):
        keep_partial_parse(_run_target(tmp_path / f"run{i}", f"/a/n{i}.work.duckdb", i), project)
        os.utime(project / BY_NAME / f"n{i}.work.duckdb", (i, i))  # built in this order
    names = sorted(int(p.name[1:].split(".")[0]) for p in (project / BY_NAME).iterdir())
    assert names == list(range(2, KEPT_NAMES + 2))


def test_a_name_built_again_is_recent_again(tmp_path):
    project = tmp_path / "target"
    project.mkdir()
    names = [f"z{i}" for i in range(KEPT_NAMES)]  # built z0 … z7, oldest first
    for i, name in enumerate(names):
        keep_partial_parse(_run_target(tmp_path / f"run{i}", f"/a/{name}.work.duckdb", i), project)
        os.utime(project / BY_NAME / f"{name}.work.duckdb", (i, i))
    keep_partial_parse(_run_target(tmp_path / "again", "/b/z0.work.duckdb", 99), project)  # z0 again: the newest
    keep_partial_parse(_run_target(tmp_path / "new", "/a/a.work.duckdb", 100), project)  # a new name: z1 goes
    assert {p.name.split(".")[0] for p in (project / BY_NAME).iterdir()} == {"a", "z0", *names[2:]}
