"""Opening the warehouse read-only, and finding it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from .. import settings as _settings

#: Schemas put on the search path, in this order, when the file has them.
SEARCH_SCHEMAS = ("marts", "reference", "raw")

#: The engine's side of "reads the warehouse and nothing else". `lock_configuration` comes last
#: and freezes the rest for the life of the connection.
READ_ONLY_CONFIG: dict[str, Any] = {
    "enable_external_access": False,        # no host files, no ATTACH of other files, no COPY TO
    "autoinstall_known_extensions": False,  # no downloads
    "autoload_known_extensions": False,     # nor loading one behind a function call
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,    # `select * from some_python_variable` finds nothing
    "temp_directory": "",                   # never write spill files next to the warehouse
    "lock_configuration": True,
}

DEFAULT_MAX_ROWS = 40  # rows of a table on a terminal (like the DuckDB CLI)


class ShellError(Exception):
    """A problem to report in one clear message, without a traceback."""


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the published file read-only, locked down, with `marts` first on the search path."""
    try:
        con = duckdb.connect(str(path), read_only=True, config=dict(READ_ONLY_CONFIG))
    except duckdb.Error as exc:
        raise ShellError(f"cannot open {path} as a DuckDB warehouse: {first_line(exc)}") from None
    try:
        locked, external = con.execute(
            "select current_setting('lock_configuration'), current_setting('enable_external_access')").fetchone()
        if not locked or external:  # fail closed should a DuckDB version ignore the configuration
            raise ShellError("refusing to run: DuckDB did not lock the read-only configuration")
        present = {s for (s,) in con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()}
        path_schemas = [s for s in SEARCH_SCHEMAS if s in present]
        if path_schemas:
            # `search_path` is a session setting DuckDB leaves changeable under the lock (harmless)
            con.execute(f"set search_path = '{','.join(path_schemas + ['main'])}'")
    except BaseException:
        con.close()
        raise
    return con


def find_warehouse(explicit: str | None) -> Path:
    """--warehouse, else $SIYU_WAREHOUSE, else data/warehouse/siyu.duckdb here or in the project."""
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not path.is_file():
            raise ShellError(f"no warehouse at {path} (from --warehouse); run `siyu build` first")
        return path
    env = os.environ.get("SIYU_WAREHOUSE")
    if env:
        path = Path(env).expanduser().resolve()
        if not path.is_file():
            raise ShellError(f"no warehouse at {path} (from $SIYU_WAREHOUSE); run `siyu build` first")
        return path
    tried: list[Path] = []
    for base in (Path.cwd(), _settings.REPO_ROOT):
        candidate = (base / "data" / "warehouse" / "siyu.duckdb").resolve()
        if candidate not in tried:
            tried.append(candidate)
        if candidate.is_file():
            return candidate
    listing = "\n".join(f"  {p}" for p in tried)
    raise ShellError(
        "no published warehouse found. Tried:\n"
        f"{listing}\n"
        "Build one with `siyu build` in the project folder, or say where it is:\n"
        "  export SIYU_WAREHOUSE=/path/to/siyu.duckdb    (or: siyu sql --warehouse /path/to/siyu.duckdb)")


def refuse_working_database(path: Path) -> None:
    work = os.environ.get("SIYU_WORK_DB")
    if path.name.endswith(".work.duckdb") or (work and Path(work).expanduser().resolve() == path):
        raise ShellError(f"{path} is the pipeline's working database (raw layer, raw PII); "
                         "siyu sql opens only the published warehouse")


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
