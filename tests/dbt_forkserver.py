"""dbt for the test suite, forked from a server that has imported it once.

Each `siyu build` runs dbt as a subprocess (dagster-dbt's `DbtCliResource`), and a dbt process
spends ≈ 3 s of CPU importing dbt-core, its adapter and Jinja before it reads a single argument —
a tenth of a tiny build, paid about 40 times a suite. Here the suite's `SIYU_DBT_EXECUTABLE` is a
small client (tests/dbt_client.py) that hands its arguments, working directory, environment and its
standard input, output and error to this server; the server forks a child that has dbt imported
already, and the child runs the same `dbt.cli.main.cli` the `dbt` command runs, with those
arguments, in that directory and environment, writing to the client's own output. The client
leaves with the child's exit code, so dagster-dbt sees a dbt process as usual.

Run as `python -m tests.dbt_forkserver SOCKET`; tests/conftest.py starts one per pytest process.
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import os
import signal
import socket
import struct
import sys
import traceback

# dbt's CLI and everything a `dbt build` on the DuckDB target imports (dbt-duckdb, agate, the task
# and parser modules); siyu's own dbt plugin is left to the child, it reads no more than a few modules
PRELOAD = ("dbt.cli.main", "dbt.task.build", "dbt.parser.manifest", "dbt.adapters.duckdb", "dbt.adapters.duckdb.impl",
           "dbt.adapters.duckdb.plugins", "agate")

HEADER = struct.Struct("!I")


def _read_exactly(conn: socket.socket, size: int, first: bytes = b"") -> bytes:
    data = bytearray(first)
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client left mid-request")
        data += chunk
    return bytes(data)


def _receive_request(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: a length-prefixed JSON {argv, cwd, env} and the client's fds 0, 1, 2."""
    first, fds, _, _ = socket.recv_fds(conn, 65536, 3)
    head = _read_exactly(conn, HEADER.size, first[:HEADER.size])
    (length,) = HEADER.unpack(head)
    body = _read_exactly(conn, length, first[HEADER.size:])
    return json.loads(body), list(fds)


def _run_dbt(conn: socket.socket) -> None:
    """The forked child: become the client's dbt process, run dbt, report its exit code, leave."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # dbt's own subprocesses are waited for
        request, fds = _receive_request(conn)
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # fresh text streams on the new fds, line-buffered on a terminal as a new interpreter's are
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=os.isatty(1))
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True)
        conn.sendall(HEADER.pack(os.getpid()))
        sys.argv = ["dbt", *request["argv"]]
        from dbt.cli.main import cli

        try:
            cli(prog_name="dbt")  # else click names the program after this server's `python -m` in usage lines
            code = 0
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else 1)
    except BaseException:  # noqa: BLE001 — whatever happens, the client hears a code
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()  # noqa: SLF001 — what a dbt process does on leaving (multiprocessing's finalizers)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 — a closed pipe on the reader's side
                pass
        try:
            conn.sendall(HEADER.pack(code & 0xFFFFFFFF))
        finally:
            os._exit(code)


def serve(path: str) -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".new")
    listener.listen(16)
    os.replace(path + ".new", path)  # clients find the socket only once it accepts
    parent = os.getppid()
    listener.settimeout(5)
    while os.getppid() == parent:  # the pytest process that started it is gone (killed): leave too
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        if os.fork() == 0:
            listener.close()
            _run_dbt(conn)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
