"""`siyu sql`: the published warehouse, read-only, from the terminal (contracts §7).

It reads the published warehouse and nothing else. Two independent layers make sure of that:

1. The engine. The file is opened with `read_only=True` and a configuration that DuckDB locks
   (`lock_configuration`) before any statement runs: no external access (no host files, no
   other databases, no `COPY … TO`, no network; DuckDB still allows the database file itself,
   see `allowed_paths`), no extension installs or loads, no spilling to a temp directory, no
   scans of this process's Python variables. A statement cannot `SET`/`RESET` any of it.
2. The shell. Every statement is parsed first and only reads are let through: SELECT (with
   WITH/FROM/VALUES/DESCRIBE/SHOW/SUMMARIZE), PIVOT, EXPLAIN of those, read-only PRAGMAs and
   CALLs, and `USE`/`SET search_path`. Anything else is refused with a message, and a `-c`
   holding one refused statement runs none of them.

It behaves like the shells people know: line editing and history (readline; the history file
is `$XDG_STATE_HOME/siyu/sql_history` or `~/.siyu_sql_history`), `\\q`/`.quit`/`quit`/`exit`
or Ctrl-D to leave, Ctrl-C to drop the current input or cancel a running query, tables that
fit the terminal with a note when rows or columns are cut, `--format csv|json` for piping, and
`marts` (then `reference`, `raw`) on the search path so `select * from funnel_daily` works.
"""

from .. import settings as _settings
from .connection import ShellError, connect_read_only, find_warehouse
from .entry import run_shell
from .render import display_width, render_table
from .repl import CONTINUATION, PROMPT, history_path, repl
from .session import Session

__all__ = ["CONTINUATION", "PROMPT", "Session", "ShellError", "_settings", "connect_read_only", "display_width",
           "find_warehouse", "history_path", "render_table", "repl", "run_shell"]
