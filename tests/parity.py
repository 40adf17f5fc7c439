"""Compare the marts of a DuckDB build with marts written as Parquet folders (a Spark build).

Same marts, same columns in the same order with the same DuckDB types, and the same rows as
multisets. Every count, id, date, timestamp, list and DECIMAL money value must be exactly equal;
DOUBLE values (rates, shares, decay weights, percentiles) to a relative 1e-12: the engines
implement `power()` and percentile interpolation with different floating-point operations, so a
ratio may differ in its last bits (≈ 6e-16 relative seen).
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

RELATIVE_TOLERANCE = 1e-12


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe select * from {relation}").fetchall()]


def _rows(con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]) -> list[tuple]:
    """Every row, lists as text, in an order both sides share: doubles rounded to 6 decimals for
    sorting (so last-bit differences cannot reorder rows), the exact values as tie-breaks."""
    def select(column: str, dtype: str) -> str:
        quoted = '"' + column.replace('"', '""') + '"'
        return f"cast({quoted} as varchar)" if dtype.endswith("[]") else quoted
    rows = con.execute(f"select {', '.join(select(c, t) for c, t in columns)} from {relation}").fetchall()
    doubles = [i for i, (_, t) in enumerate(columns) if t in ("DOUBLE", "FLOAT")]

    def key(row: tuple) -> tuple:
        rounded = [round(v, 6) if i in doubles and v is not None else v for i, v in enumerate(row)]
        return tuple((v is None, v) for v in rounded) + tuple((v is None, v) for v in row)
    return sorted(rows, key=key)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-300) or (math.isnan(a) and math.isnan(b))
    return a == b


def mart_differences(duckdb_file: Path, marts_dir: Path, sample: int = 3) -> dict[str, str]:
    """Mart → what differs between the DuckDB file's `marts` schema and ``marts_dir/<mart>/``;
    empty when every mart is identical."""
    con = duckdb.connect(str(duckdb_file), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        folders = {p.name for p in Path(marts_dir).iterdir() if p.is_dir()}
        problems = {name: "missing from the Parquet marts" for name in tables if name not in folders}
        problems |= {name: "not a mart of the DuckDB build" for name in folders - set(tables)}
        for name in sorted(set(tables) & folders):
            mine = f'marts."{name}"'
            theirs = f"read_parquet('{Path(marts_dir) / name}/**/*.parquet')"
            left, right = _columns(con, mine), _columns(con, theirs)
            if left != right:
                problems[name] = f"columns differ: duckdb {left} vs parquet {right}"
                continue
            a, b = _rows(con, mine, left), _rows(con, theirs, right)
            if len(a) != len(b):
                problems[name] = f"{len(a)} rows in duckdb, {len(b)} in parquet"
                continue
            differing = [(x, y) for x, y in zip(a, b) if not all(_same(u, v) for u, v in zip(x, y))]
            if differing:
                problems[name] = f"{len(differing)} of {len(a)} rows differ, e.g. {differing[:sample]}"
        return problems
    finally:
        con.close()
