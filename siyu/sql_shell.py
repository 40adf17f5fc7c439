"""`siyu sql`: the published warehouse, read-only, from the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from .settings import Settings


def run_shell(command: str | None, warehouse: str | None) -> int:
    path = Path(warehouse) if warehouse else Settings.from_env().warehouse
    if not path.exists():
        print(f"siyu sql: no warehouse at {path}; run `siyu build` first", file=sys.stderr)
        return 2
    con = duckdb.connect(str(path), read_only=True)
    try:
        if command:
            return _run(con, command)
        print(f"{path} (read-only). End statements with ';'. Ctrl-D to quit.")
        buffer = ""
        while True:
            try:
                line = input("siyu> " if not buffer else "  ... ")
            except EOFError:
                print()
                return 0
            buffer += line + "\n"
            if buffer.strip().endswith(";"):
                _run(con, buffer)
                buffer = ""
    finally:
        con.close()


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    try:
        relation = con.sql(sql)
    except duckdb.Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if relation is not None:
        relation.show(max_rows=100, max_width=200)
    return 0
