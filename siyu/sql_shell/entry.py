"""The entry point of `siyu sql`."""

from __future__ import annotations

import os
import sys

from .connection import DEFAULT_MAX_ROWS, ShellError, connect_read_only, find_warehouse, refuse_working_database
from .repl import History, repl
from .session import Session


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def run_shell(command: str | None, warehouse: str | None, fmt: str = "table",
              max_rows: int | None = None) -> int:
    """`siyu sql`: run `command` (one or more statements), or read them from a pipe or a terminal."""
    if max_rows is not None and max_rows < 0:
        print("siyu sql: --max-rows must be 0 (all rows) or more", file=sys.stderr)
        return 2
    if max_rows is None:  # a terminal gets a screenful; a pipe or file gets every row
        max_rows = DEFAULT_MAX_ROWS if _stdout_is_terminal() else 0
    try:
        path = find_warehouse(warehouse)
        refuse_working_database(path)
        con = connect_read_only(path)
    except ShellError as exc:
        print(f"siyu sql: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    try:
        interactive = command is None and sys.stdin.isatty()
        session = Session(con, fmt=fmt, max_rows=max_rows or None, interactive=interactive)
        if command is not None:
            return session.run(command)
        if not interactive:  # `siyu sql < queries.sql`, `echo "select 1;" | siyu sql`
            return _run_script(session, sys.stdin.read())
        history = History(con)
        schemas = con.execute("select current_setting('search_path')").fetchone()[0]
        print(f"siyu sql: {path} (read-only)\n"
              f"search path: {schemas or 'main'} · end statements with ';' · \\? for help · \\q or Ctrl-D to quit")
        try:
            return repl(session, input, history)
        finally:
            history.save()
    except BrokenPipeError:  # `siyu sql -c … --format csv | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    finally:
        con.close()


def _run_script(session: Session, script: str) -> int:
    """A piped script is SQL only, run whole or not at all (a refused statement anywhere runs nothing):
    the interactive shell's dot and backslash commands are named as such instead of failing to parse."""
    meta = next((line.strip() for line in script.splitlines() if line.strip().startswith((".", "\\"))), None)
    if meta:
        print(f"siyu sql: {meta.split()[0]} is a command of the interactive shell; a piped script is SQL only "
              "(SHOW TABLES; DESCRIBE marts.dim_member; …). Nothing was run.", file=sys.stderr)
        return 2
    return session.run(script)
