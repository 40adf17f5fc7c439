"""The interactive loop: prompts, history, meta-commands."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

import duckdb

from .session import Session
from .statements import ALLOWED_SUMMARY, statement_complete

QUIT_WORDS = frozenset({"\\q", "\\quit", "\\exit", ".quit", ".exit", ".q", "quit", "exit"})
HELP_WORDS = frozenset({"\\?", "\\h", "\\help", ".help", "help"})
TABLES_WORDS = frozenset({"\\d", "\\dt", "\\dv", ".tables"})
PROMPT, CONTINUATION = "siyu> ", "  ... "

HELP = f"""\
Type SQL ending with ';' (it can span lines). Allowed: {ALLOWED_SUMMARY}.
Tables of marts, reference and raw can be named without their schema: select * from funnel_daily;
  \\q  .quit  quit  exit  Ctrl-D   leave
  Ctrl-C                        drop the current input, or cancel a running query
  \\dt  .tables                  list tables and views
  \\d NAME  .schema NAME         describe a table or view
  .maxrows N                    show at most N rows of a table (0 = all)
  .mode table|csv|json          how results are printed
  \\?  .help                     this help"""

TABLES_SQL = """\
select schema_name as schema, table_name as name, 'table' as kind, comment
from duckdb_tables() where database_name = current_database() and not internal
union all
select schema_name, view_name, 'view', comment
from duckdb_views() where database_name = current_database() and not internal
order by 1, 2"""


def history_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME")
    if state:
        return Path(state) / "siyu" / "sql_history"
    return Path.home() / ".siyu_sql_history"


class History:
    """readline line editing, a persistent history and tab completion; all optional."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.path = history_path()
        try:
            import readline
        except ImportError:
            self.readline = None
            return
        self.readline = readline
        try:
            readline.set_history_length(2000)
            if self.path.is_file():
                readline.read_history_file(str(self.path))
        except OSError:
            pass
        self.words = self._words(con)
        readline.set_completer(self._complete)
        readline.set_completer_delims(" \t\n()[],;'\"=<>+-*/|")
        if "libedit" in (readline.__doc__ or ""):
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")

    @staticmethod
    def _words(con: duckdb.DuckDBPyConnection) -> list[str]:
        try:
            rows = con.execute("""
                select table_name from duckdb_tables() where not internal
                union select view_name from duckdb_views() where not internal
                union select schema_name || '.' || table_name from duckdb_tables() where not internal
                union select column_name from duckdb_columns() where not internal
                union select lower(keyword_name) from duckdb_keywords()""").fetchall()
            return sorted({w for (w,) in rows if w})
        except duckdb.Error:
            return []

    def _complete(self, text: str, state: int) -> str | None:
        low = text.lower()
        matches = [w for w in self.words if w.lower().startswith(low)]
        return matches[state] if state < len(matches) else None

    def mark(self) -> int:
        return self.readline.get_current_history_length() if self.readline else 0

    def fold(self, since: int, lines: list[str]) -> None:
        """Keep a multi-line statement as one history entry, as psql does."""
        if not self.readline or len(lines) < 2 or any("--" in line for line in lines):
            return
        try:
            while self.readline.get_current_history_length() > since:
                self.readline.remove_history_item(self.readline.get_current_history_length() - 1)
            self.readline.add_history(" ".join(line.strip() for line in lines))
        except (ValueError, OSError):
            pass

    def save(self) -> None:
        if not self.readline:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.readline.write_history_file(str(self.path))
            os.chmod(self.path, 0o600)  # queries can be sensitive
        except OSError:
            pass


def repl(session: Session, read_line: Callable[[str], str] = input,
         history: History | None = None) -> int:
    """Read statements until \\q or Ctrl-D. Ctrl-C drops the current input."""
    out = session.out
    buffer: list[str] = []
    mark = 0
    while True:
        if not buffer and history:
            mark = history.mark()
        try:
            line = read_line(PROMPT if not buffer else CONTINUATION)
        except EOFError:  # Ctrl-D
            print(file=out)
            return 0
        except KeyboardInterrupt:  # Ctrl-C: forget the line(s) typed so far
            print(file=out)
            buffer = []
            continue
        if not buffer:
            command = line.strip()
            if not command:
                continue
            word = command.rstrip(";").strip().lower()
            if word in QUIT_WORDS:
                return 0
            if _meta(session, command, word):
                continue
        buffer.append(line)
        text = "\n".join(buffer)
        if statement_complete(text):
            if history:
                history.fold(mark, buffer)
            buffer = []
            try:
                session.run(text)
            except KeyboardInterrupt:
                print("cancelled", file=session.err)


def _meta(session: Session, command: str, word: str) -> bool:
    """Backslash and dot commands; True if `command` was one."""
    if word in HELP_WORDS:
        print(HELP, file=session.out)
        return True
    if word in TABLES_WORDS:
        session.run(TABLES_SQL)
        return True
    m = re.match(r"^(?:\\d\+?|\.schema|\.describe)\s+(.+?)\s*;?\s*$", command, re.I)
    if m:
        session.run(f"describe {m.group(1)}")
        return True
    m = re.match(r"^\.maxrows\s+(\d+)\s*;?$", command, re.I)
    if m:
        session.max_rows = int(m.group(1)) or None
        print(f"tables show {'all' if session.max_rows is None else f'at most {session.max_rows}'} rows",
              file=session.out)
        return True
    m = re.match(r"^\.mode\s+(table|csv|json)\s*;?$", command, re.I)
    if m:
        session.fmt = m.group(1).lower()
        return True
    if command.startswith(("\\", ".")):
        print(f"unknown command {command.split()[0]}; \\? for help", file=session.err)
        return True
    return False
