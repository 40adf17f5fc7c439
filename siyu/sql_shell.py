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

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import os
import re
import shutil
import sys
import threading
import unicodedata
import uuid
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

import duckdb

from . import settings as _settings

# --------------------------------------------------------------------------------------------
# Opening the warehouse

#: Schemas put on the search path, in this order, when the file has them.
SEARCH_SCHEMAS = ("marts", "reference", "raw")

#: The engine's side of "reads the warehouse and nothing else". `lock_configuration` comes last
#: and freezes the rest for the life of the connection.
READ_ONLY_CONFIG: dict[str, Any] = {
    "enable_external_access": False,        # no host files, no ATTACH of other files, no COPY TO
    "autoinstall_known_extensions": False,  # no downloads
    "autoload_known_extensions": False,     # nor loading one behind a function call
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,    # `select * from some_python_variable` finds nothing
    "temp_directory": "",                   # never write spill files next to the warehouse
    "lock_configuration": True,
}

DEFAULT_MAX_ROWS = 40  # rows of a table on a terminal (like the DuckDB CLI)


class ShellError(Exception):
    """A problem to report in one clear message, without a traceback."""


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the published file read-only, locked down, with `marts` first on the search path."""
    try:
        con = duckdb.connect(str(path), read_only=True, config=dict(READ_ONLY_CONFIG))
    except duckdb.Error as exc:
        raise ShellError(f"cannot open {path} as a DuckDB warehouse: {_first_line(exc)}") from None
    try:
        locked, external = con.execute(
            "select current_setting('lock_configuration'), current_setting('enable_external_access')").fetchone()
        if not locked or external:  # fail closed should a DuckDB version ignore the configuration
            raise ShellError("refusing to run: DuckDB did not lock the read-only configuration")
        present = {s for (s,) in con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()}
        path_schemas = [s for s in SEARCH_SCHEMAS if s in present]
        if path_schemas:
            # `search_path` is a session setting DuckDB leaves changeable under the lock (harmless)
            con.execute(f"set search_path = '{','.join(path_schemas + ['main'])}'")
    except BaseException:
        con.close()
        raise
    return con


def find_warehouse(explicit: str | None) -> Path:
    """--warehouse, else $SIYU_WAREHOUSE, else data/warehouse/siyu.duckdb here or in the project."""
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not path.is_file():
            raise ShellError(f"no warehouse at {path} (from --warehouse); run `siyu build` first")
        return path
    env = os.environ.get("SIYU_WAREHOUSE")
    if env:
        path = Path(env).expanduser().resolve()
        if not path.is_file():
            raise ShellError(f"no warehouse at {path} (from $SIYU_WAREHOUSE); run `siyu build` first")
        return path
    tried: list[Path] = []
    for base in (Path.cwd(), _settings.REPO_ROOT):
        candidate = (base / "data" / "warehouse" / "siyu.duckdb").resolve()
        if candidate not in tried:
            tried.append(candidate)
        if candidate.is_file():
            return candidate
    listing = "\n".join(f"  {p}" for p in tried)
    raise ShellError(
        "no published warehouse found. Tried:\n"
        f"{listing}\n"
        "Build one with `siyu build` in the project folder, or say where it is:\n"
        "  export SIYU_WAREHOUSE=/path/to/siyu.duckdb    (or: siyu sql --warehouse /path/to/siyu.duckdb)")


def _refuse_working_database(path: Path) -> None:
    work = os.environ.get("SIYU_WORK_DB")
    if path.name.endswith(".work.duckdb") or (work and Path(work).expanduser().resolve() == path):
        raise ShellError(f"{path} is the pipeline's working database (raw layer, raw PII); "
                         "siyu sql opens only the published warehouse")


# --------------------------------------------------------------------------------------------
# Which statements may run

_ST = duckdb.StatementType
_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)

#: PRAGMAs that only read (import_database, enable_*, copy_database, add_parquet_key… do not).
READ_PRAGMAS = frozenset({
    "table_info", "show", "show_tables", "show_tables_expanded", "show_databases", "database_list",
    "database_size", "storage_info", "metadata_info", "version", "platform", "functions",
    "collations", "user_agent",
})
#: CALL targets that only read: the duckdb_* catalog functions and the read PRAGMAs' functions.
READ_CALLS = frozenset({"pragma_" + p for p in READ_PRAGMAS} | {"summary"})
#: Table functions that change state or run SQL text past these checks. Under a read-only,
#: locked connection they are no-ops or errors already; they are refused all the same.
DENIED_FUNCTIONS = frozenset({
    "checkpoint", "force_checkpoint", "truncate_duckdb_logs", "enable_logging", "disable_logging",
    "enable_profiling", "disable_profiling", "register_external_resource",
    "register_external_resource_type", "create_external_resource", "destroy_external_resource",
    "deregister_external_resource", "json_execute_serialized_sql", "query",
})

ALLOWED_SUMMARY = ("SELECT (WITH, FROM, VALUES), DESCRIBE, SHOW, SUMMARIZE, PIVOT, EXPLAIN, "
                   "USE, read-only PRAGMA and CALL")


def _strip_leading(sql: str) -> str:
    return sql[_LEADING_NOISE.match(sql).end():]


def _first_word(sql: str) -> str:
    m = re.match(r"[A-Za-z_]+", _strip_leading(sql))
    return m.group(0).upper() if m else "this"


def _denied_function(sql: str) -> str | None:
    try:
        tokens = duckdb.tokenize(sql)
    except Exception:  # noqa: BLE001 - what cannot be tokenised cannot be checked
        return "?"
    texts = [sql[pos:(tokens[i + 1][0] if i + 1 < len(tokens) else len(sql))].strip()
             for i, (pos, _kind) in enumerate(tokens)]
    for i, (_pos, kind) in enumerate(tokens):
        if kind in (duckdb.token_type.identifier, duckdb.token_type.keyword):
            name = texts[i].strip('"').lower()
            if name in DENIED_FUNCTIONS and i + 1 < len(texts) and texts[i + 1].startswith("("):
                return name
    return None


def refusal(statement: Any) -> str | None:
    """Why `statement` may not run in siyu sql, or None if it only reads."""
    sql = statement.query
    try:
        kind = statement.type
    except ValueError:  # a statement type this DuckDB's Python API cannot even name
        return f"{_first_word(sql)} is not allowed: siyu sql is read-only (allowed: {ALLOWED_SUMMARY})"
    text = _strip_leading(sql)
    if kind == _ST.SELECT:
        reason = None
    elif kind == _ST.MULTI and re.match(r"(?:un)?pivot\b", text, re.I):
        reason = None
    elif kind == _ST.EXPLAIN:
        m = re.match(r"explain\s+(?:analy[sz]e\s+)?(?:\((?:[^()]|\([^()]*\))*\)\s*)?", text, re.I)
        inner = text[m.end():] if m else ""
        try:
            inner_statements = duckdb.extract_statements(inner) if inner.strip() else []
        except Exception:  # noqa: BLE001
            inner_statements = []
        if len(inner_statements) != 1:
            return "EXPLAIN is allowed only of a query this shell may run"
        reason = refusal(inner_statements[0])
        return f"EXPLAIN of a refused statement: {reason}" if reason else None
    elif kind == _ST.PRAGMA:
        m = re.match(r"pragma\s+([A-Za-z_]+)\b", text, re.I)
        if not m or m.group(1).lower() not in READ_PRAGMAS:
            what = f"PRAGMA {m.group(1)}" if m else f"{_first_word(sql)}"
            return (f"{what} is not allowed: siyu sql is read-only "
                    f"(read-only PRAGMAs: {', '.join(sorted(READ_PRAGMAS))})")
        reason = None
    elif kind == _ST.CALL:
        m = re.match(r"call\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(", text, re.I)
        name = m.group(1).lower() if m else ""
        if not (name in READ_CALLS or name.startswith("duckdb_")):
            what = f"CALL {name}" if name else _first_word(sql)
            return f"{what} is not allowed: siyu sql is read-only (use SELECT … FROM a function instead)"
        reason = None
    elif kind == _ST.SET:
        if re.match(r"use\s+\S", text, re.I) or re.match(
                r"(?:set\s+(?:session\s+|local\s+)?|reset\s+(?:session\s+|local\s+)?)(?:search_path|schema)\b",
                text, re.I):
            return None
        return ("SET/RESET is not allowed: the shell's settings are locked "
                "(USE <schema> and SET search_path = '…' are allowed)")
    elif kind == _ST.COPY or kind == _ST.EXPORT or kind == _ST.COPY_DATABASE:
        return (f"{_first_word(sql)} is not allowed: siyu sql only reads the warehouse. To save a "
                "result, print it with --format csv or --format json and redirect: "
                "siyu sql -c \"select …\" --format csv > result.csv")
    elif kind in (_ST.ATTACH, _ST.DETACH):
        return f"{_first_word(sql)} is not allowed: siyu sql reads the published warehouse and nothing else"
    elif kind in (_ST.LOAD, _ST.EXTENSION):
        return f"{_first_word(sql)} is not allowed: extensions cannot be installed or loaded in siyu sql"
    else:
        return f"{_first_word(sql)} is not allowed: siyu sql is read-only (allowed: {ALLOWED_SUMMARY})"
    denied = _denied_function(sql)
    if denied == "?":
        return "this statement could not be checked, so it is not run"
    if denied:
        return f"{denied}() is not allowed: siyu sql is read-only"
    return None


def parse(sql: str) -> list[Any]:
    """The statements of `sql`; raises duckdb.Error for bad SQL, ShellError for what cannot run."""
    try:
        statements = duckdb.extract_statements(sql)
    except ValueError:  # a statement type this DuckDB's Python API cannot even name
        raise ShellError(f"{_first_word(sql)} is not allowed: siyu sql is read-only "
                         f"(allowed: {ALLOWED_SUMMARY})") from None
    reasons = [r for r in (refusal(s) for s in statements) if r]
    if reasons:
        note = "" if len(statements) == 1 else "\n(nothing was run)"
        raise ShellError("\nerror: ".join(reasons) + note)
    return statements


def statement_complete(sql: str) -> bool:
    """True when `sql` ends with a ';' outside strings and comments."""
    if not sql.strip():
        return False
    try:
        tokens = duckdb.tokenize(sql)
    except Exception:  # noqa: BLE001
        return sql.rstrip().endswith(";")
    for pos, kind in reversed(tokens):
        if kind == duckdb.token_type.comment:
            continue
        return kind == duckdb.token_type.operator and sql[pos] == ";"
    return False


# --------------------------------------------------------------------------------------------
# Rendering

_NUMERIC = re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL.*|NUMERIC.*)$", re.I)
_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def display_width(text: str) -> int:
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 0 if unicodedata.combining(ch) else (2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def format_cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in bytes(value))
    text = str(value)
    if any(ch in text for ch in "\n\r\t"):
        text = "".join(_CONTROL.get(ch, ch) for ch in text)
    return text


def _fit(natural: list[int], limit: int | None) -> tuple[list[int], list[int]]:
    """Column widths and the indices of the columns shown, so each line is at most `limit` wide."""
    def total(widths: list[int]) -> int:
        return sum(widths) + 3 * len(widths) + 1

    def capped(widths: list[int], room: int) -> list[int]:
        if total(widths) <= room:
            return widths
        lo, hi = 1, max(widths)
        while lo < hi:  # the largest common cap that fits
            mid = (lo + hi + 1) // 2
            if total([min(w, mid) for w in widths]) <= room:
                lo = mid
            else:
                hi = mid - 1
        out = [min(w, lo) for w in widths]
        spare = room - total(out)
        for i, w in enumerate(widths):  # hand the remainder to the columns that were cut
            if spare <= 0:
                break
            if w > out[i]:
                out[i] += 1
                spare -= 1
        return out

    everything = list(range(len(natural)))
    if limit is None or total(natural) <= limit:
        return natural, everything
    floor = [min(w, 8) for w in natural]
    if total(floor) <= limit:
        return capped(natural, limit), everything
    # too many columns even when narrow: show the first ones, readable (up to 16 wide), then "…"
    room = limit - 4  # the "…" column of hidden ones
    keep: list[int] = []
    used = 1
    for i, w in enumerate(min(w, 16) for w in natural):
        if used + w + 3 > room:
            break
        keep.append(i)
        used += w + 3
    if not keep:
        keep = [0]
    widths = capped([natural[i] for i in keep], room)
    return [max(1, w) for w in widths], keep


def render_table(names: list[str], types: list[str], rows: list[tuple], width: int | None) -> tuple[list[str], list[str]]:
    """Box-drawn lines, and the names of columns left out to fit `width`."""
    cells = [[format_cell(v) for v in row] for row in rows]
    type_names = [t.lower().strip('"') for t in types]
    natural = [max([display_width(names[i]), display_width(type_names[i])] + [display_width(r[i]) for r in cells])
               for i in range(len(names))]
    widths, shown = _fit(natural, width)
    hidden = [names[i] for i in range(len(names)) if i not in shown]
    right = [bool(_NUMERIC.match(types[i].strip('"'))) for i in shown]
    more = ["…"] if hidden else []
    col_widths = widths + ([1] if hidden else [])

    def rule(left: str, mid: str, end: str) -> str:
        return left + mid.join("─" * (w + 2) for w in col_widths) + end

    def line(values: list[str], align: list[bool]) -> str:
        parts = [_pad(_clip(v, w), w, r) for v, w, r in zip(values, col_widths, align)]
        return "│ " + " │ ".join(parts) + " │"

    align_text = [False] * len(col_widths)
    out = [rule("┌", "┬", "┐"),
           line([names[i] for i in shown] + more, align_text),
           line([type_names[i] for i in shown] + more, align_text),
           rule("├", "┼", "┤")]
    out += [line([r[i] for i in shown] + more, right + [False] * len(more)) for r in cells]
    out.append(rule("└", "┴", "┘"))
    return out, hidden


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return format_cell(value)
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_json_value(value), ensure_ascii=False)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return format_cell(value)
    return value


# --------------------------------------------------------------------------------------------
# Running statements


class Cancelled(Exception):
    """The user pressed Ctrl-C while a statement ran."""


def terminal_width(stream: TextIO) -> int | None:
    """The width to fit tables to: the terminal's, $COLUMNS when piped (if set), else none."""
    try:
        is_tty = stream.isatty()
    except (AttributeError, ValueError):
        is_tty = False
    if is_tty:
        return max(20, shutil.get_terminal_size().columns)
    columns = os.environ.get("COLUMNS", "")
    return max(20, int(columns)) if columns.isdigit() else None


class Session:
    """One open warehouse, and how results are printed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fmt: str = "table", max_rows: int | None = None,
                 out: TextIO | None = None, err: TextIO | None = None, interactive: bool = False) -> None:
        self.con = con
        self.fmt = fmt
        self.max_rows = max_rows  # None: all rows
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.interactive = interactive

    # Ctrl-C: DuckDB does not stop a query on SIGINT, and Python runs the handler only between
    # bytecodes of the main thread. So the work runs in a helper thread; the main thread waits
    # on an Event (which Ctrl-C can interrupt safely) and then asks DuckDB to interrupt.
    def interruptible(self, work: Callable[[], Any]) -> Any:
        box: dict[str, Any] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["value"] = work()
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=target, name="siyu-sql-query", daemon=True).start()
        try:
            while not done.wait(0.05):
                pass
        except KeyboardInterrupt:
            self.con.interrupt()
            while True:
                try:
                    done.wait()
                    break
                except KeyboardInterrupt:
                    self.con.interrupt()
            raise Cancelled() from None
        if "error" in box:
            raise box["error"]
        return box["value"]

    def run(self, sql: str) -> int:
        """Run every statement of `sql` (all are checked before any runs). 0, 1 (error) or 130 (Ctrl-C)."""
        try:
            statements = parse(sql)
        except ShellError as exc:
            self._error(str(exc))
            return 1
        except duckdb.Error as exc:
            self._error(str(exc))
            return 1
        first = True
        for statement in statements:
            try:
                printed = self._execute(statement, first)
            except (Cancelled, KeyboardInterrupt):
                try:
                    self.con.interrupt()
                except Exception:  # noqa: BLE001
                    pass
                self.out.flush()
                print("cancelled", file=self.err)
                return 130
            except duckdb.Error as exc:
                self._error(str(exc))
                return 1
            first = first and not printed
        return 0

    def _error(self, message: str) -> None:
        hint = ""
        if "disabled by configuration" in message or "disabled through configuration" in message:
            hint = ("\nhint: siyu sql reads the published warehouse and nothing else: no other files, "
                    "databases or extensions")
        elif "configuration has been locked" in message:
            hint = "\nhint: siyu sql's settings are locked"
        elif "read-only mode" in message:
            hint = "\nhint: siyu sql is read-only"
        print(f"error: {message}{hint}", file=self.err)

    def _execute(self, statement: Any, first: bool) -> bool:
        """Run one statement and print its result; True if something was printed."""
        con = self.con
        self.interruptible(lambda: con.execute(statement))
        if statement.type == _ST.SET or not con.description:
            return False
        names = [d[0] for d in con.description]
        types = [str(d[1]) for d in con.description]
        if not first:
            print(file=self.out)
        if self.fmt == "csv":
            self._print_csv(names)
        elif self.fmt == "json":
            self._print_json(names)
        elif statement.type == _ST.EXPLAIN and names == ["explain_key", "explain_value"]:
            for _key, plan in self.interruptible(con.fetchall):
                print(plan.rstrip("\n"), file=self.out)
        else:
            self._print_table(names, types)
        self.out.flush()
        return True

    def _chunks(self, size: int = 10_000) -> Iterable[list[tuple]]:
        while True:
            rows = self.interruptible(lambda: self.con.fetchmany(size))
            if not rows:
                return
            yield rows

    def _count_rest(self) -> int:
        def count() -> int:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reader = self.con.to_arrow_reader(100_000)
                return sum(batch.num_rows for batch in reader)
            except (ImportError, AttributeError):
                n = 0
                while rows := self.con.fetchmany(100_000):
                    n += len(rows)
                return n
        return self.interruptible(count)

    def _print_table(self, names: list[str], types: list[str]) -> None:
        limit = self.max_rows
        if limit is None:
            rows = self.interruptible(self.con.fetchall)
            total = len(rows)
        else:
            rows = self.interruptible(lambda: self.con.fetchmany(limit + 1))
            total = len(rows)
            if total > limit:
                rows = rows[:limit]
                total = limit + 1 + self._count_rest()
        lines, hidden = render_table(names, types, rows, terminal_width(self.out))
        for text in lines:
            print(text, file=self.out)
        notes = []
        if len(rows) < total:
            more = ".maxrows N" if self.interactive else "--max-rows N (0 = all)"
            notes.append(f"{len(rows):,} of {total:,} rows shown; see more with {more} or LIMIT/OFFSET, "
                         "all of them with --format csv")
        else:
            notes.append(f"{total:,} row{'' if total == 1 else 's'}")
        if hidden:
            named = ", ".join(hidden[:12]) + (f" and {len(hidden) - 12} more" if len(hidden) > 12 else "")
            notes.append(f"{len(hidden)} column{'' if len(hidden) == 1 else 's'} not shown to fit the "
                         f"terminal: {named} (select fewer columns, or use --format csv)")
        for note in notes:
            print(note, file=self.out)

    def _print_csv(self, names: list[str]) -> None:
        writer = csv.writer(self.out, lineterminator="\n")
        writer.writerow(names)
        for rows in self._chunks():
            writer.writerows([_csv_value(v) for v in row] for row in rows)

    def _print_json(self, names: list[str]) -> None:
        self.out.write("[")
        sep = "\n"
        for rows in self._chunks():
            for row in rows:
                obj = {name: _json_value(value) for name, value in zip(names, row)}
                self.out.write(sep + json.dumps(obj, ensure_ascii=False))
                sep = ",\n"
        self.out.write("\n]\n" if sep != "\n" else "]\n")


# --------------------------------------------------------------------------------------------
# The interactive loop

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


class _History:
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
         history: _History | None = None) -> int:
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


# --------------------------------------------------------------------------------------------
# Entry point


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
        _refuse_working_database(path)
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
            return session.run(sys.stdin.read())
        history = _History(con)
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


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
