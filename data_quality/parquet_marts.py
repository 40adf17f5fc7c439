"""The mart suites over marts written as Parquet (the Spark engine's output, DESIGN §8).

Great Expectations validates the marts inside DuckDB (runner.py). A Spark build writes each mart
as a Parquet folder instead of a DuckDB table; rather than a second set of suites on Spark, the
same suites run on DuckDB views over those folders. The views live in a `marts` schema of a
DuckDB file that also holds the raw layer (the PII scan compares mart values with the raw display
names and message texts), and they are dropped again after the check: they point at a build
folder that is about to move.

So a Spark build passes exactly the checks a DuckDB build passes — including column types, since
DuckDB reads Spark's `string`, `decimal(18,2)`, `timestamp_ntz` and `array<string>` Parquet
columns as VARCHAR, DECIMAL(18,2), TIMESTAMP and VARCHAR[].
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import duckdb

from .mart_suites import MART_SUITES, mart_text_columns, pii_scan_suite
from .outcomes import CheckOutcome
from .runner import validate_many
from .suites import TableSuite, quote_ident

SCHEMA = "marts"


def parquet_mart_folders(marts_dir: Path) -> dict[str, Path]:
    """Mart name → its folder, for every folder of ``marts_dir`` holding Parquet files."""
    return {folder.name: folder for folder in sorted(Path(marts_dir).iterdir())
            if folder.is_dir() and any(folder.rglob("*.parquet"))}


def attach_parquet_marts(db_path: Path, marts_dir: Path) -> list[str]:
    """Replace the `marts` schema of the DuckDB file with one view per Parquet mart folder.
    Returns the mart names. The file must hold no `marts` tables of its own (a Spark build's
    working file holds the raw layer only)."""
    folders = parquet_mart_folders(marts_dir)
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"drop schema if exists {SCHEMA} cascade")
        con.execute(f"create schema {SCHEMA}")
        for name, folder in folders.items():
            files = str(folder.resolve() / "**" / "*.parquet").replace("'", "''")
            con.execute(f"create view {SCHEMA}.{quote_ident(name)} as "
                        f"select * from read_parquet('{files}', hive_partitioning = false)")
    finally:
        con.close()
    return list(folders)


def detach_parquet_marts(db_path: Path) -> None:
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"drop schema if exists {SCHEMA} cascade")
    finally:
        con.close()


def validate_parquet_marts(db_path: Path, marts_dir: Path, docs_dir: Path | None = None, *,
                           suites: Sequence[TableSuite] | None = None,
                           build_docs: bool = True) -> list[CheckOutcome]:
    """Run the mart suites (default: every mart suite and the PII scan) on the Parquet marts of
    ``marts_dir``, through views in ``db_path``. A mart folder that is missing fails its suite
    ("table missing"), like a mart missing from a DuckDB build."""
    attach_parquet_marts(db_path, marts_dir)
    try:
        if suites is None:
            suites = [*MART_SUITES.values(), pii_scan_suite(mart_text_columns(db_path))]
        return validate_many(db_path, suites, docs_dir, build_docs=build_docs)
    finally:
        detach_parquet_marts(db_path)
