"""Write-audit-publish under stress (issue 6 §4, DESIGN §6): readers never fail and never see a
half-built warehouse, and a run killed midway leaves the published file intact.

One sequence, one landing (400 members × 20 days), three `siyu build` runs:

1. build the first half of the days and publish (version "old");
2. add the rest of the days, start `siyu build` in its own session, wait until dbt is running,
   SIGKILL the whole process group; the published file must be byte-identical and open fine;
3. leave a stale `.publishing` file (as a kill during the copy would), run `siyu build` again
   while a reader process loops open → read two marts → close on the published file. The run
   must succeed, the reader must never fail, and every read must show the old or the new values.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from siyu.simulator import simulate
from tests.harness import REPO, siyu_env

START = date(2026, 8, 1)
DAYS = 20
HALF = START + timedelta(days=DAYS // 2)

READS = {
    "orders": "select count(*), sum(net_gmv)::varchar from marts.fct_orders",
    "funnel": "select count(*), sum(exposure_members) from marts.funnel_daily",
    "events": "select count(*), count(distinct member_id) from marts.fct_touchpoint_events",
}

READER = r"""
import json, sys, time, duckdb
path, out, stop, reads = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
import os
with open(out, "w") as log:
    while True:
        stopping = os.path.exists(stop)
        started = time.time()
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                values = {name: [str(v) for v in con.execute(sql).fetchone()] for name, sql in reads.items()}
            finally:
                con.close()
            log.write(json.dumps({"t": started, "ok": True, "values": values}) + "\n")
        except Exception as error:
            log.write(json.dumps({"t": started, "ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
        log.flush()
        if stopping:
            break
        time.sleep(0.02)
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_values(db: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: [str(v) for v in con.execute(sql).fetchone()] for name, sql in READS.items()}
    finally:
        con.close()


def build_command(landing: Path, work: Path) -> list[str]:
    return [sys.executable, "-m", "siyu.cli", "build", "--landing", str(landing),
            "--warehouse", str(work / "warehouse.duckdb")]


def session_processes(pgid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process in a process group (zombies waiting to be reaped excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")))
        except (OSError, ValueError, IndexError):
            continue
    return found


def copy_days(full: Path, target: Path, keep) -> None:
    for path in sorted(full.rglob("*")):
        parts = path.relative_to(full).parts
        if path.is_file() and not parts[0].startswith("_") and keep(date.fromisoformat(parts[1].removeprefix("dt="))):
            destination = target / path.relative_to(full)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


@pytest.fixture(scope="module")
def sequence(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("publish")
    full, landing, work = base / "landing_full", base / "landing", base / "work"
    simulate(full, members=400, days=DAYS, start=START, seed=5, progress=False)
    work.mkdir()
    env = siyu_env(work)
    published = work / "warehouse.duckdb"
    out: dict = {"work": work, "published": published, "timings": {}}

    # 1. the "old" version
    copy_days(full, landing, lambda d: d < HALF)
    started = time.perf_counter()
    first = subprocess.run(build_command(landing, work), cwd=REPO, env=env, capture_output=True, text=True)
    out["timings"]["first build"] = time.perf_counter() - started
    assert first.returncode == 0, first.stderr[-5000:]
    out["old_sha"], out["old_values"] = sha256(published), read_values(published)
    old_tables = duckdb.connect(str(published), read_only=True)
    out["old_marts"] = sorted(t for (t,) in old_tables.execute(
        "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall())
    old_tables.close()

    # 2. a run over new data, killed (SIGKILL, whole process group) while dbt is building
    copy_days(full, landing, lambda d: d >= HALF)
    started = time.perf_counter()
    killed = subprocess.Popen(build_command(landing, work), cwd=REPO, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    phase = "before dbt"
    deadline = time.time() + 300
    while time.time() < deadline and killed.poll() is None:
        if any(" build" in cmd and "/dbt " in cmd for _, cmd in session_processes(killed.pid)):
            phase = "dbt build running"
            break
        time.sleep(0.1)
    if phase == "dbt build running":
        time.sleep(2.0)  # into the middle of dbt's model builds
        if not any("/dbt " in cmd for _, cmd in session_processes(killed.pid)):
            phase = "after dbt"
    still_running = killed.poll() is None
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    out["killed"] = {"phase": phase, "was_running": still_running, "returncode": killed.returncode,
                     "stderr": killed.stderr.read().decode(errors="replace")[-3000:]}
    killed.stderr.close()
    out["timings"]["killed run (until kill)"] = time.perf_counter() - started
    for _ in range(50):  # SIGKILL is asynchronous: give the kernel a moment to end every process
        if not session_processes(killed.pid):
            break
        time.sleep(0.1)
    out["left_in_group"] = session_processes(killed.pid)
    out["after_kill_sha"] = sha256(published)
    out["after_kill_values"] = read_values(published)
    out["after_kill_files"] = sorted(p.name for p in work.iterdir())

    # 3. a stale .publishing file, then a run that succeeds while a reader hammers the published file
    stale = work / "warehouse.duckdb.publishing"
    stale.write_bytes(b"half a copy from a killed run")
    reader_log, stop = base / "reads.jsonl", base / "stop-reader"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published), str(reader_log), str(stop), json.dumps(READS)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        started = time.perf_counter()
        build_started_at = time.time()
        recovery = subprocess.run(build_command(landing, work), cwd=REPO, env=env, capture_output=True, text=True)
        build_finished_at = time.time()
        out["timings"]["recovery build (with reader)"] = time.perf_counter() - started
        time.sleep(1.0)
    finally:
        stop.touch()
        try:
            reader_out, reader_err = reader.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            reader.kill()
            reader_out, reader_err = reader.communicate()
    out["recovery"] = recovery
    out["reader_returncode"], out["reader_stderr"] = reader.returncode, reader_err.decode(errors="replace")[-3000:]
    out["reads"] = [json.loads(line) for line in reader_log.read_text().splitlines() if line.strip()]
    out["build_window"] = (build_started_at, build_finished_at)
    out["stale_left"] = stale.exists()
    if recovery.returncode == 0:
        out["new_sha"], out["new_values"] = sha256(published), read_values(published)
        con = duckdb.connect(str(published), read_only=True)
        out["new_marts"] = sorted(t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall())
        out["days_loaded"] = con.execute("select count(distinct dt) from raw._load_log").fetchone()[0]
        con.close()
    print("\n" + ", ".join(f"{k} {v:.0f}s" for k, v in out["timings"].items())
          + f"; killed during: {out['killed']['phase']}; left after the kill: {out['after_kill_files']}; "
          f"reads: {len(out['reads'])}")
    return out


def test_killed_run_really_was_killed_mid_run(sequence):
    killed = sequence["killed"]
    assert killed["was_running"], f"the run finished before it could be killed: {killed}"
    assert killed["returncode"] == -signal.SIGKILL
    assert killed["phase"] == "dbt build running", killed
    assert sequence["left_in_group"] == [], f"processes of the killed run survive: {sequence['left_in_group']}"


def test_killed_run_leaves_published_file_intact(sequence):
    assert sequence["after_kill_sha"] == sequence["old_sha"]
    assert sequence["after_kill_values"] == sequence["old_values"]
    assert "warehouse.duckdb.wal" not in sequence["after_kill_files"]


def test_next_build_after_kill_succeeds_and_publishes_everything(sequence):
    recovery = sequence["recovery"]
    assert recovery.returncode == 0, f"{recovery.stdout[-3000:]}\n{recovery.stderr[-6000:]}"
    assert sequence["new_sha"] != sequence["old_sha"]
    assert sequence["new_values"] != sequence["old_values"]
    assert sequence["days_loaded"] == DAYS
    assert sequence["new_marts"] == sequence["old_marts"], "stray or missing tables in marts after the kill"
    assert not sequence["stale_left"], "a stale .publishing file was left behind"


def test_reader_never_fails_and_sees_old_or_new(sequence):
    reads = sequence["reads"]
    assert sequence["reader_returncode"] == 0, sequence["reader_stderr"]
    failures = [r for r in reads if not r["ok"]]
    assert not failures, f"{len(failures)} of {len(reads)} reads failed, e.g. {failures[:3]}"
    start, end = sequence["build_window"]
    during = [r for r in reads if start <= r["t"] <= end]
    assert len(during) >= 20, f"only {len(during)} reads during the build"
    versions = {"old": sequence["old_values"], "new": sequence.get("new_values")}
    seen = [next((name for name, v in versions.items() if r["values"] == v), None) for r in reads]
    odd = [r for r, s in zip(reads, seen) if s is None]
    assert not odd, f"reads that match neither version: {odd[:3]} (old {versions['old']}, new {versions['new']})"
    assert seen[0] == "old" and seen[-1] == "new"
    switch = seen.index("new")
    assert all(s == "new" for s in seen[switch:]), "a reader went back to the old version after seeing the new one"


def test_a_second_concurrent_build_is_refused_cleanly(sequence):
    """While one run holds the working database, another `siyu build` stops at once with a clear
    message (instead of a DuckDB lock error midway) and changes nothing."""
    import fcntl

    work, published = sequence["work"], sequence["published"]
    before = sha256(published)
    landing = Path(sequence["recovery"].args[sequence["recovery"].args.index("--landing") + 1])
    with open(work / "warehouse.work.duckdb.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        result = subprocess.run(build_command(landing, work), cwd=REPO, env=siyu_env(work),
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stderr[-3000:]
    assert "another build" in result.stderr and "Traceback" not in result.stderr
    assert sha256(published) == before
