"""Step 1 of a Spark build: the DuckDB raw load into the working database, then every raw table, the
load log and the readers' quarantine ledger as Parquet under DIR/raw/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from ...build import connect_working_db
from ...landing import loader
from ...landing.schema import RAW_TABLES
from ...publish import QUARANTINE_COLUMNS
from ...settings import Settings
from .layout import SparkLayout, make_readable, replace_dir
from .session import sql_string


def load_raw(settings: Settings, full_refresh: bool) -> list[loader.PartitionStats]:
    """The raw load of the DuckDB pipeline (what its raw assets run per source), without Dagster:
    new or changed landing partitions (all on a full refresh) into the working DuckDB."""
    con = connect_working_db(settings.work_db)
    try:
        return loader.load_landing(con, settings.landing_dir, only_changed=not full_refresh)
    finally:
        con.close()


def quarantine_counts(settings: Settings) -> dict[str, int]:
    con = connect_working_db(settings.work_db, read_only=True)
    try:
        return dict(con.execute("select source, count(*) from raw.quarantine group by source order by source").fetchall())
    finally:
        con.close()


def _export_table(con: duckdb.DuckDBPyConnection, query: str, out_dir: Path, partition_by: str | None) -> None:
    """COPY a query to Parquet in a fresh folder; an empty result still gets its folder."""
    if partition_by:
        con.execute(f"copy ({query}) to {sql_string(str(out_dir))} (format parquet, partition_by ({partition_by}))")
    else:
        out_dir.mkdir(parents=True)
        con.execute(f"copy ({query}) to {sql_string(str(out_dir / 'data_0.parquet'))} (format parquet)")
    out_dir.mkdir(parents=True, exist_ok=True)


def export_raw(settings: Settings, layout: SparkLayout) -> dict[str, int]:
    """Every raw table as Parquet partitioned by `_dt`, the load log, and the readers' quarantine ledger.
    Each folder is written beside its final place and swapped in whole. Returns rows per table."""
    layout.raw.mkdir(parents=True, exist_ok=True)
    queries: dict[str, tuple[str, str | None]] = {
        table: (f"select * from raw.{table}", "_dt") for table in RAW_TABLES}
    queries["_load_log"] = ("select * from raw._load_log order by source, dt", None)
    # publish.QUARANTINE_COLUMNS is the allow-list the published DuckDB file gives readers: never raw_text
    queries["quarantine"] = (f"select {', '.join(QUARANTINE_COLUMNS)} from raw.quarantine "
                             "order by source, _dt, file, line", None)
    rows: dict[str, int] = {}
    con = connect_working_db(settings.work_db, read_only=True)
    try:
        for table, (query, partition_by) in queries.items():
            fresh = layout.raw / f".{table}.new-{os.getpid()}"
            shutil.rmtree(fresh, ignore_errors=True)
            _export_table(con, query, fresh, partition_by)
            replace_dir(fresh, layout.raw / table)
            rows[table] = con.execute(f"select count(*) from ({query})").fetchone()[0]
    finally:
        con.close()
    make_readable(layout.raw, recursive=False)  # readers may list raw/ and open raw/quarantine/, not the rest
    make_readable(layout.quarantine)
    return rows


def raw_columns(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """(column, DuckDB type) of each raw table and the load log, for Spark's table declarations."""
    con = connect_working_db(settings.work_db, read_only=True)
    try:
        return {table: [(name, str(kind)) for name, kind, *_ in con.execute(f"describe raw.{table}").fetchall()]
                for table in (*RAW_TABLES, "_load_log")}
    finally:
        con.close()
