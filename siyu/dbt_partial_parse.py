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
"""

from __future__ import annotations

import hashlib
import json
import os
import pprint
import shutil
from pathlib import Path
from typing import Any, Iterable

PARTIAL_PARSE = "partial_parse.msgpack"
PROFILE_RECORD = "siyu_profile.json"  # beside PARTIAL_PARSE: the connection info it was parsed with


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
    """Keep the partial-parse file (and its profile record) dbt just wrote for the next build,
    replaced atomically: builds may run side by side on one project."""
    for name in (PROFILE_RECORD, PARTIAL_PARSE):  # the record first: a parse file never meets an older record
        source = run_target / name
        if not source.is_file():
            continue
        scratch = project_target / f".{name}.{os.getpid()}"
        try:
            shutil.copyfile(source, scratch)
            os.replace(scratch, project_target / name)
        except OSError:  # an optimisation only: the next build parses in full
            scratch.unlink(missing_ok=True)


def prepare_partial_parse(project_target: Path, run_target: Path, work_db: Path) -> bool:
    """Put a partial-parse file for `work_db` into the run's target folder, restamped when the saved
    one was parsed for a working database of the same name in another folder. True if restamped."""
    import msgpack  # dbt-core's dependency; only needed here

    saved, record = project_target / PARTIAL_PARSE, project_target / PROFILE_RECORD
    if not saved.is_file() or not record.is_file():
        return False
    try:
        pairs = _load_pairs(record)
        old_path = dict(pairs).get("path")
        if not old_path or old_path == str(work_db) or Path(old_path).name != work_db.name:
            return False  # the same warehouse (dbt reuses the file as it is), or another database name
        data = msgpack.unpackb(saved.read_bytes(), raw=False, strict_map_key=False)
        stored = data["state_check"]["profile_hash"]
        if stored.get("name") != "sha256" or stored.get("checksum") != profile_checksum(pairs):
            return False  # the record does not describe this file, or dbt hashes differently now
        moved = [(key, str(work_db) if key == "path" else value) for key, value in pairs]
        stored["checksum"] = profile_checksum(moved)
        run_target.mkdir(parents=True, exist_ok=True)
        (run_target / PARTIAL_PARSE).write_bytes(msgpack.packb(data, use_bin_type=True))
        return True
    except (OSError, ValueError, KeyError, TypeError, msgpack.UnpackException):
        return False


def seed_partial_parse(project_target: Path, run_target: Path, work_db: Path) -> bool:
    """For a dbt command we run ourselves (dagster-dbt copies the file into its runs' targets):
    give its fresh target folder the project's last parse, as it is when it was made for `work_db`,
    restamped when it was made for a working database of the same name elsewhere. True if seeded."""
    saved, record = project_target / PARTIAL_PARSE, project_target / PROFILE_RECORD
    try:
        if saved.is_file() and record.is_file() and dict(_load_pairs(record)).get("path") == str(work_db):
            run_target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(saved, run_target / PARTIAL_PARSE)
            return True
    except (OSError, ValueError, TypeError):
        return False  # an optimisation only: dbt parses in full
    return prepare_partial_parse(project_target, run_target, work_db)
