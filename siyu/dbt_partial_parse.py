"""Keep dbt's partial parsing across warehouses.

dbt re-parses the whole project (≈ 9 s here: 52 models, 152 tests, 536 macros) when the saved
`partial_parse.msgpack` was written for another profile — and the profile holds the working
database's path, so the first build of every new warehouse (each test, each bench scale, a
second brand on the same install) paid a full parse although nothing in the project changed.

The manifest itself does not depend on the path, only on the database name DuckDB derives from the
file's name. So, when the saved parse differs from this build only in the folder of the working
database, we restamp its profile hash with the one dbt will compute for this build, using dbt's
own recipe (`ManifestLoader.build_manifest_state_check`: sha256 of `pprint.pformat` of the sorted
connection info). The connection info comes from dbt itself: our dbt-duckdb plugin records it
beside each run's partial-parse file (`record_profile`). Anything else — another file name,
changed vars, a recipe that no longer reproduces dbt's stored hash — leaves the file alone, and dbt
parses in full as it would have.

Since the database name is part of the manifest, a parse is kept per working-database file name
too (`target/partial_parse_by_name/<name>/`, the last few names): builds that alternate between
differently named warehouses on one install (the test suite's `warehouse`, `siyu`, `w` …) each
find the last parse made for their name instead of re-parsing in full (≈ 4–5 s) on every switch.
"""

from __future__ import annotations

import hashlib
import json
import os
import pprint
import shutil
import time
from pathlib import Path
from typing import Any, Iterable

import msgpack  # dbt-core's own dependency: its partial-parse file is msgpack

PARTIAL_PARSE = "partial_parse.msgpack"
PROFILE_RECORD = "siyu_profile.json"  # beside PARTIAL_PARSE: the connection info it was parsed with
BY_NAME = "partial_parse_by_name"  # in the project's target: <working database file name>/ holds its last parse
KEPT_NAMES = 8  # names whose last parse is kept (≈ 1.4 MB each); a suite or a few brands use fewer


def profile_checksum(connection_info: Iterable[tuple[str, Any]]) -> str:
    """dbt's profile hash of a connection's (key, value) pairs (dbt-core 1.11; tests/test_dbt_partial_parse.py
    checks it against the hash dbt stores)."""
    return hashlib.sha256(pprint.pformat(sorted(connection_info)).encode("utf-8")).hexdigest()


def record_profile(connection_info: Iterable[tuple[str, Any]], target_dir: str | None) -> None:
    """Called in the dbt process (siyu.dbt_plugin): write the run's connection info into its target folder."""
    if not target_dir or not Path(target_dir).is_dir():
        return
    pairs = [[key, value] for key, value in connection_info]
    try:
        (Path(target_dir) / PROFILE_RECORD).write_text(json.dumps(pairs, default=str))
    except OSError:  # an optimisation only
        pass


def _load_pairs(record: Path) -> list[tuple[str, Any]]:
    return [(key, value) for key, value in json.loads(record.read_text())]


def keep_partial_parse(run_target: Path, project_target: Path) -> None:
    """Keep the partial-parse file (and its profile record) dbt just wrote for the next build: as the
    project's last parse (which dagster-dbt copies into its runs), and as the last parse for this
    working database's file name (builds of differently named warehouses on one install, e.g. the
    test suite's, then each find theirs instead of re-parsing whenever the name changes). Files are
    replaced atomically, as builds may run side by side on one project; a record and a parse from two
    such builds may still end up side by side, which `_described` tells apart (dbt would re-parse)."""
    _replace_from(run_target, project_target)
    described = _described(run_target)  # a run that failed before dbt wrote its parse holds an older one
    name = _database_name(described[0]) if described else None
    if name:
        _replace_from(run_target, project_target / BY_NAME / name)
        _prune_names(project_target / BY_NAME)


def _replace_from(run_target: Path, folder: Path) -> None:
    for name in (PROFILE_RECORD, PARTIAL_PARSE):
        source = run_target / name
        if not source.is_file():
            continue
        scratch = folder / f".{name}.{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, scratch)
            os.replace(scratch, folder / name)
        except OSError:  # an optimisation only: the next build parses in full
            scratch.unlink(missing_ok=True)


def _described(folder: Path) -> tuple[list[tuple[str, Any]], dict] | None:
    """(the record's connection info, the unpacked parse) when `folder` holds a parse and a record of
    the profile it was made with (dbt's stored profile hash is the record's), else None."""
    saved, record = folder / PARTIAL_PARSE, folder / PROFILE_RECORD
    try:
        if not saved.is_file() or not record.is_file():
            return None
        pairs = _load_pairs(record)
        data = msgpack.unpackb(saved.read_bytes(), raw=False, strict_map_key=False)
        stored = data["state_check"]["profile_hash"]
        if stored.get("name") != "sha256" or stored.get("checksum") != profile_checksum(pairs):
            return None  # the record is of another parse, or dbt hashes differently now
        return pairs, data
    except (OSError, ValueError, KeyError, TypeError, AttributeError, msgpack.UnpackException):
        return None


def _database_name(pairs: list[tuple[str, Any]]) -> str | None:
    """The file name of the working database a recorded profile points at."""
    path = dict(pairs).get("path")
    name = Path(str(path)).name if path else ""
    return name if name not in ("", ".", "..") else None


def _prune_names(folder: Path, keep: int = KEPT_NAMES, spare_s: float = 600) -> None:
    """Only the most recently built names keep a parse; one kept in the last minutes is spared (another
    build may be about to use it)."""
    try:
        by_recency = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                            reverse=True)
        old = [p for p in by_recency[keep:] if time.time() - p.stat().st_mtime > spare_s]
    except OSError:  # a folder pruned meanwhile by another build
        return
    for folder_of_name in old:
        shutil.rmtree(folder_of_name, ignore_errors=True)


def prepare_partial_parse(project_target: Path, run_target: Path, work_db: Path, *, copy_same: bool = False) -> bool:
    """Put the last partial-parse file made for a working database of `work_db`'s file name into the
    run's target folder (the project's last parse, else the last one kept for that name), restamped
    when it was made in another folder. True if a file was put there. The project's last parse made
    for `work_db` itself is only copied with `copy_same` (dagster-dbt copies it into its runs itself)."""
    for folder in (project_target, project_target / BY_NAME / work_db.name):
        described = _described(folder)
        if described is None or _database_name(described[0]) != work_db.name:
            continue  # nothing usable here: another database name is another catalog in the manifest
        pairs, data = described
        try:
            run_target.mkdir(parents=True, exist_ok=True)
            if dict(pairs).get("path") == str(work_db):
                if folder == project_target and not copy_same:
                    return False
                shutil.copyfile(folder / PARTIAL_PARSE, run_target / PARTIAL_PARSE)
                return True
            moved = [(key, str(work_db) if key == "path" else value) for key, value in pairs]
            data["state_check"]["profile_hash"]["checksum"] = profile_checksum(moved)
            (run_target / PARTIAL_PARSE).write_bytes(msgpack.packb(data, use_bin_type=True))
            return True
        except OSError:  # an optimisation only: dbt parses in full
            return False
    return False


def seed_partial_parse(project_target: Path, run_target: Path, work_db: Path) -> bool:
    """For a dbt command we run ourselves (dagster-dbt copies the file into its runs' targets):
    give its fresh target folder the last parse made for `work_db`'s file name, as it is when it was
    made for `work_db`, restamped when it was made elsewhere. True if seeded."""
    return prepare_partial_parse(project_target, run_target, work_db, copy_same=True)
