"""Write-audit-publish: readers open a published copy that only ever changes atomically.

A run writes the private working database, checks it, and only then copies it beside the
published file and renames it into place. A reader that has the old file open keeps
reading the old version (POSIX rename keeps its inode alive); a new reader sees the new one.
A run killed midway leaves at most a stray `.publishing` file, never a half-built warehouse.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb


def publish(work_db: Path, published: Path) -> Path:
    published.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work_db))
    try:
        con.execute("checkpoint")  # fold the WAL into the file so the copy is complete
    finally:
        con.close()
    staging_copy = published.with_name(published.name + ".publishing")
    shutil.copyfile(work_db, staging_copy)
    with open(staging_copy, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging_copy, published)
    return published
