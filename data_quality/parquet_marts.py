"""The mart suites over marts written as Parquet (the Spark engine's output, DESIGN §8).

Great Expectations validates the marts inside DuckDB (runner.py). A Spark build writes each mart
as a Parquet folder instead of a DuckDB table; rather than a second set of suites on Spark, the
same suites run on DuckDB views over those folders. The views live in `staging`, `intermediate`
and `marts` schemas (some suites compare a mart with the layer below it) of a DuckDB file that
also holds the raw layer (the PII scan compares mart values with the raw display names and message
texts), and they are dropped again after the check: they point at a build folder about to move.

So a Spark build passes exactly the checks a DuckDB build passes — including column types, since
DuckDB reads Spark's `string`, `decimal(18,2)`, `timestamp_ntz` and `array<string>` Parquet
columns as VARCHAR, DECIMAL(18,2), TIMESTAMP and VARCHAR[].
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import duckdb

from siyu.settings import DBT_LAYERS

from .mart_suites import MART_SUITES, mart_text_columns, pii_scan_suite
from .outcomes import CheckOutcome
from .runner import validate_many
from .suites import TableSuite, quote_ident


def parquet_table_folders(layer_dir: Path) -> dict[str, Path]:
    """Table name → its folder, for every folder of ``layer_dir`` holding Parquet files."""
    if not Path(layer_dir).is_dir():
        return {}
    return {folder.name: folder for folder in sorted(Path(layer_dir).iterdir())
            if folder.is_dir() and any(folder.rglob("*.parquet"))}


def _refuse_real_tables(con: duckdb.DuckDBPyConnection, layers: Sequence[str]) -> None:
    """The views replace whole schemas: never in a file whose layers hold tables (a DuckDB build's)."""
    placeholders = ", ".join("?" for _ in layers)
    tables = con.execute(f"select schema_name || '.' || table_name from duckdb_tables() "
                         f"where schema_name in ({placeholders}) limit 3", list(layers)).fetchall()
    if tables:
        raise ValueError(f"refusing to replace schemas holding tables ({', '.join(t for t, in tables)}): "
                         "Parquet layers are checked through a DuckDB file that holds the raw layer only")


def attach_parquet_layers(db_path: Path, build_dir: Path, layers: Sequence[str] = DBT_LAYERS) -> dict[str, list[str]]:
    """One schema per layer in the DuckDB file, with one view per Parquet table folder of
    ``build_dir/<layer>/``. Returns layer → table names."""
    attached: dict[str, list[str]] = {}
    con = duckdb.connect(str(db_path))
    try:
        _refuse_real_tables(con, layers)
        for layer in layers:
            con.execute(f"drop schema if exists {layer} cascade")
            con.execute(f"create schema {layer}")
            folders = parquet_table_folders(Path(build_dir) / layer)
            for name, folder in folders.items():
                files = str(folder.resolve() / "**" / "*.parquet").replace("'", "''")
                con.execute(f"create view {layer}.{quote_ident(name)} as "
                            f"select * from read_parquet('{files}', hive_partitioning = false)")
            attached[layer] = list(folders)
    finally:
        con.close()
    return attached


def detach_parquet_layers(db_path: Path, layers: Sequence[str] = DBT_LAYERS) -> None:
    con = duckdb.connect(str(db_path))
    try:
        _refuse_real_tables(con, layers)
        for layer in layers:
            con.execute(f"drop schema if exists {layer} cascade")
    finally:
        con.close()


def validate_parquet_marts(db_path: Path, build_dir: Path, docs_dir: Path | None = None, *,
                           marts: Sequence[str] | None = None, suites: Sequence[TableSuite] | None = None,
                           build_docs: bool = True) -> list[CheckOutcome]:
    """Run the mart suites and the PII scan on the Parquet marts of ``build_dir/marts/``, through
    views in ``db_path`` (dropped afterwards). ``marts`` limits the check to those marts (a partial
    build); by default every mart suite runs, and a missing mart fails its suite ("table missing"),
    as on a DuckDB build. ``suites`` replaces the default suites."""
    attach_parquet_layers(db_path, build_dir)
    try:
        if suites is None:
            wanted = set(marts) if marts is not None else set(MART_SUITES)
            text_columns = [c for c in mart_text_columns(db_path) if marts is None or c[0] in wanted]
            anchor = "dim_member" if "dim_member" in wanted else min(wanted)  # a partial build may lack dim_member
            suites = [s for table, s in MART_SUITES.items() if table in wanted] + [pii_scan_suite(text_columns, anchor)]
        return validate_many(db_path, suites, docs_dir, build_docs=build_docs)
    finally:
        detach_parquet_layers(db_path)
