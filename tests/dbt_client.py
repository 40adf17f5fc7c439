"""The suite's `dbt` command: runs dbt in a child of tests/dbt_forkserver.py (see there).

Standard library only, run with `python -I -S` so that it starts in milliseconds. Without a server
(SIYU_TEST_DBT_SERVER unset, or no socket there), it becomes the real dbt (SIYU_TEST_REAL_DBT)."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
import time

HEADER = struct.Struct("!I")


def _read_int(conn: socket.socket) -> int | None:
    data = b""
    while len(data) < HEADER.size:
        chunk = conn.recv(HEADER.size - len(data))
        if not chunk:
            return None
        data += chunk
    return HEADER.unpack(data)[0]


def _connect(path: str, patience: float = 60.0) -> socket.socket | None:
    """The server, once it has imported dbt (it creates the socket then); None if it never does."""
    deadline = time.monotonic() + patience
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(path)
            return conn
        except OSError:
            conn.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)


def main() -> int:
    path = os.environ.get("SIYU_TEST_DBT_SERVER")
    conn = _connect(path) if path else None
    if conn is None:
        real = os.environ["SIYU_TEST_REAL_DBT"]
        os.execv(real, [real, *sys.argv[1:]])
    with conn:
        payload = json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(conn, [HEADER.pack(len(payload)) + payload], [0, 1, 2])
        pid = _read_int(conn)
        if pid is None:
            return 1
        for signum in (signal.SIGINT, signal.SIGTERM):  # dagster-dbt interrupts dbt on a cancelled run
            signal.signal(signum, lambda received, _frame: os.kill(pid, received))
        code = _read_int(conn)
    return 1 if code is None else code


if __name__ == "__main__":
    sys.exit(main())
