"""What `siyu build` shows on a terminal while it runs: one status line, rewritten in place.

    [  42.3 s] dbt  118/296 · int_identity_components
    [  12.0 s] raw  tracking loaded: 2,551,135 rows in 32.6 s (78,213 rows/s)

It is drawn only when stderr is a terminal (SIYU_PROGRESS=1 forces it, 0 turns it off), so CI
logs and redirected output stay as they were. Two sources feed it: Dagster's events, through the
`siyu_progress` logger (dagster_project/loggers.py) that `siyu build` switches on, and dbt's own
log lines, which dagster-dbt echoes to stdout (`DbtLogTee`). A finished stage leaves one
permanent line; everything else overwrites the status line.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from typing import TextIO

_NODE = re.compile(r"^\s*(\d+) of (\d+) (?:START|OK|PASS|FAIL|ERROR|WARN|SKIP|NO-OP)\b(.*)$")
_KINDS = ("model", "test", "seed", "snapshot", "exposure")


def wanted(stream: TextIO | None = None) -> bool:
    setting = os.environ.get("SIYU_PROGRESS")
    if setting in ("0", "1"):
        return setting == "1"
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class StatusLine:
    """A single terminal line: `show` rewrites it, `note` prints a permanent line above it."""

    def __init__(self, stream: TextIO, started: float | None = None):
        self.stream = stream
        self.started = started if started is not None else time.monotonic()
        self.lock = threading.Lock()
        self.shown = False

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self.started:7.1f} s]"

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        if columns < 20:  # unknown (a pseudo-terminal without a size)
            columns = int(os.environ.get("COLUMNS", "120"))
        return columns - 1

    def show(self, text: str) -> None:
        with self.lock:
            self.stream.write("\r" + f"{self._stamp()} {text}"[: self._width()] + "\x1b[K")
            self.stream.flush()
            self.shown = True

    def note(self, text: str) -> None:
        with self.lock:
            self.stream.write(("\r\x1b[K" if self.shown else "") + f"{self._stamp()} {text}\n")
            self.stream.flush()
            self.shown = False

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self.shown = False


# The status line of this process, while `siyu build` runs with progress on (a terminal is a
# process-wide thing; Dagster instantiates the logger itself and cannot be handed an object).
ACTIVE: StatusLine | None = None


def activate(stream: TextIO | None = None) -> StatusLine:
    global ACTIVE
    ACTIVE = StatusLine(stream or sys.stderr)
    return ACTIVE


def deactivate() -> None:
    global ACTIVE
    if ACTIVE is not None:
        ACTIVE.clear()
    ACTIVE = None


def dbt_node_status(line: str) -> str | None:
    """`dbt  118/296 · <node>` for one of dbt's "N of M START …" log lines, else None."""
    match = _NODE.match(line)
    if not match:
        return None
    done, total, rest = match.groups()
    words = rest.split()
    kind = next((i for i, word in enumerate(words) if word in _KINDS), None)
    if kind is not None:  # "START sql table model staging.stg_x", "OK created … model staging.stg_x"
        node = words[kind + 1] if kind + 1 < len(words) else ""
    else:  # "PASS unique_dim_member_member_id ......"
        node = words[0] if words and re.fullmatch(r"[\w.]+", words[0]) else ""
    node = node.rsplit(".", 1)[-1]
    return f"dbt  {done}/{total} · {node}" if node else f"dbt  {done}/{total}"


class DbtLogTee:
    """A stdout stand-in: everything goes to the log file; dbt's node lines also move the status line."""

    def __init__(self, log: TextIO):
        self.log = log
        self.partial = ""

    def write(self, text: str) -> int:
        self.log.write(text)
        if ACTIVE is not None:
            self.partial += text
            *lines, self.partial = self.partial.split("\n")
            for line in lines:
                status = dbt_node_status(line)
                if status:
                    ACTIVE.show(status)
        return len(text)

    def flush(self) -> None:
        self.log.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str):
        return getattr(self.log, name)
