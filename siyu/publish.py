"""Write-audit-publish: readers open a published copy that only ever changes atomically.

A run writes the private working database, checks it, and only then copies it beside the
published file and renames it into place. A reader that has the old file open keeps
reading the old version (POSIX rename keeps its inode alive); a new reader sees the new one.
A run killed midway leaves at most a stray `.publishing` file, never a half-built warehouse;
the next publish replaces it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

LAYERS = ("raw", "staging", "intermediate", "marts")


def _table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute("select schema_name, count(*) from duckdb_tables() where schema_name in "
                       f"({', '.join(repr(s) for s in LAYERS)}) group by all").fetchall()
    return dict(rows)


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(work_db: Path, published: Path) -> Path:
    published.parent.mkdir(parents=True, exist_ok=True)
    staging_copy = published.with_name(published.name + ".publishing")
    staging_copy.unlink(missing_ok=True)  # left by a run killed while copying
    # Keep the working database open (and so locked against any other writer) until the copy is
    # done: a copy taken while another process writes the file would be torn.
    con = duckdb.connect(str(work_db))
    try:
        con.execute("checkpoint")  # fold the WAL into the file so the copy is complete
        expected = _table_counts(con)
        shutil.copyfile(work_db, staging_copy)
        with open(staging_copy, "rb") as handle:
            os.fsync(handle.fileno())
    finally:
        con.close()
    # Audit the copy itself before readers can see it: it opens, and it holds every table.
    check = duckdb.connect(str(staging_copy), read_only=True)
    try:
        copied = _table_counts(check)
    finally:
        check.close()
    if copied != expected:
        staging_copy.unlink(missing_ok=True)
        raise RuntimeError(f"the copy of {work_db} is incomplete ({copied} tables per schema, expected {expected}); "
                           f"{published} was not changed")
    os.replace(staging_copy, published)
    _fsync_directory(published.parent)  # make the rename itself durable
    return published
