"""The resident memory of a command's whole process tree, sampled while it runs."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from ..settings import REPO_ROOT

SAMPLE_EVERY_S = 0.15

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _tree_rss_proc(root: int) -> int:
    """Sum of RSS of `root` and all its descendants, read from /proc (Linux)."""
    parent_of: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:  # the process ended meanwhile
            continue
        fields = data[data.rfind(b")") + 2:].split()  # after "pid (comm) ": state ppid … rss is the 22nd
        pid = int(entry.name)
        parent_of[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * _PAGE
    children: dict[int, list[int]] = {}
    for pid, parent in parent_of.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def tree_rss(root: int) -> int:
    """Resident memory (bytes) of a process and all its descendants (0 where /proc is missing)."""
    return _tree_rss_proc(root) if os.path.isdir("/proc") else 0


class TreeSampler:
    """Samples tree_rss(pid) every `every` seconds on a thread; `samples` is [(epoch, bytes)]."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY_S, measure: Callable[[int], int] = tree_rss):
        self.pid, self.every, self.measure = pid, every, measure
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            try:
                self.samples.append((time.time(), self.measure(self.pid)))
            except Exception:  # noqa: BLE001 - a failed sample is just missing
                pass
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int:
        return max((b for _, b in self.samples), default=0)


def peak_within(samples: Sequence[tuple[float, int]], intervals: Sequence[Sequence[float]]) -> int | None:
    """Largest sample inside any of the intervals. An interval too short to hold a sample takes the
    last sample before its end (what the process held while it ran). None without intervals."""
    if not intervals or not samples:
        return None
    best = None
    for start, end in intervals:
        inside = [b for t, b in samples if start <= t <= end]
        if not inside:
            before = [b for t, b in samples if t <= end]
            inside = before[-1:] or [samples[0][1]]
        best = max(best or 0, max(inside))
    return best


def run_measured(cmd: Sequence[str], env: dict[str, str], log: Path, cwd: Path = REPO_ROOT) -> dict[str, Any]:
    """Run `cmd`, its output to `log` with each line's time since start; wall time, exit code,
    tree-RSS samples and peak, and `lines`: [(epoch, text)] of its output."""
    log.parent.mkdir(parents=True, exist_ok=True)
    lines: list[tuple[float, str]] = []
    with open(log, "w") as out:
        started = time.time()
        process = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace", bufsize=1)

        def copy() -> None:
            for text in process.stdout:
                now = time.time()
                lines.append((now, text.rstrip("\n")))
                out.write(f"[{now - started:8.1f} s] {text}")
                out.flush()

        reader = threading.Thread(target=copy, name="bench-output", daemon=True)
        reader.start()
        with TreeSampler(process.pid) as sampler:
            code = process.wait()
        ended = time.time()
        reader.join(timeout=10)
    return {"returncode": code, "started": started, "ended": ended, "seconds": round(ended - started, 3),
            "peak_rss_bytes": sampler.peak, "samples": sampler.samples, "lines": lines, "log": str(log)}


