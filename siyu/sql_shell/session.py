"""Running statements: one read-only session, cancellable with Ctrl-C."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import threading
import warnings
from typing import Any, Callable, Iterable, TextIO

import duckdb

from .connection import ShellError
from .render import csv_value, json_value, render_table
from .statements import parse


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
        if statement.type == duckdb.StatementType.SET or not con.description:
            return False
        names = [d[0] for d in con.description]
        types = [str(d[1]) for d in con.description]
        if not first:
            print(file=self.out)
        if self.fmt == "csv":
            self._print_csv(names)
        elif self.fmt == "json":
            self._print_json(names)
        elif statement.type == duckdb.StatementType.EXPLAIN and names == ["explain_key", "explain_value"]:
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
            writer.writerows([csv_value(v) for v in row] for row in rows)

    def _print_json(self, names: list[str]) -> None:
        self.out.write("[")
        sep = "\n"
        for rows in self._chunks():
            for row in rows:
                obj = {name: json_value(value) for name, value in zip(names, row)}
                self.out.write(sep + json.dumps(obj, ensure_ascii=False))
                sep = ",\n"
        self.out.write("\n]\n" if sep != "\n" else "]\n")
