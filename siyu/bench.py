"""`siyu bench --scale S|M|L`: how long a build takes and how much memory it needs (contracts §8).

    siyu bench --scale S [--work-dir data/bench] [--json FILE]

1. Simulates the scale's landing folder into `<work>/<scale>/landing` with `siyu simulate` (a
   subprocess, so its memory is measured alone), seed 1, from 2026-08-01. The result is cached:
   `<work>/<scale>/simulate.stamp.json` records the parameters and a hash of the simulator's code,
   and a later bench with the same ones reuses the folder. The last day is held back in
   `<work>/<scale>/held_back/` so that step 3 can deliver it.
2. Full build (`siyu build --full-refresh`) into a fresh `<work>/<scale>/warehouse/`.
3. The held-back day lands; build again (incremental).
4. Build again with nothing new.

Every command runs as a subprocess while a sampler sums the resident memory of its whole process
tree (the build and its dbt, GE and docs children) every 0.15 s. Each build writes its run profile
(siyu/run_profile.py): per-stage seconds and the intervals each stage ran in, from which a stage's
peak memory is the largest sample inside its intervals. Rows per second are landing rows processed
(the raw assets' `rows_in`) over the stage's time. The report goes to stdout as a table and to
`<work>/<scale>/bench.json` (or --json).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from dagster_project.instance import ensure_instance_yaml

from .run_profile import MART_CHECK_STEP, STAGE_TITLES, STAGES
from .settings import REPO_ROOT

SCALES = {"S": (10_000, 90), "M": (100_000, 90), "L": (1_000_000, 30)}
SEED = 1
START = date(2026, 8, 1)
SAMPLE_EVERY_S = 0.15
PHASES = (("full", "full build"), ("one_day", "+1 day"), ("nothing_new", "nothing new"))
# Variables that would point a build somewhere else than the bench's own folders.
_FOREIGN_ENV = ("SIYU_LANDING_DIR", "SIYU_WAREHOUSE", "SIYU_WORK_DB", "SIYU_QUALITY_DOCS_DIR", "SIYU_PII_SALT_FILE",
                "SIYU_PARTITIONS_START", "SIYU_PARTITIONS_END_OFFSET", "DBT_TARGET_PATH")


# ----------------------------------------------------------------------------------------------
# Memory of a process tree
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Landing data: simulate once, hold the last day back
# ----------------------------------------------------------------------------------------------


def simulator_version() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "siyu" / "simulator").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _day_folders(root: Path, day: str) -> list[Path]:
    return sorted(p for p in root.glob(f"*/dt={day}") if p.is_dir() and not p.parent.name.startswith(("_", ".")))


def _last_day(landing: Path) -> str:
    days = {p.name[3:] for p in landing.glob("*/dt=*") if p.is_dir() and not p.parent.name.startswith(("_", "."))}
    if not days:
        raise RuntimeError(f"the simulation wrote no day folders under {landing}")
    return max(days)


def _move_day(day: str, source_root: Path, target_root: Path) -> None:
    """Move every `<source>/dt=<day>` folder from one root to the other (rename keeps the mtimes)."""
    for folder in _day_folders(source_root, day):
        target = target_root / folder.parent.name / folder.name
        if target.exists():  # left by an interrupted bench: both are the same simulated files
            shutil.rmtree(folder)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, target)


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env.update({"SIYU_DEMO": "1", "DAGSTER_HOME": str(root / "dagster_home"), "PYTHONUNBUFFERED": "1",
                "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")})
    return env


def _siyu(*args: str) -> list[str]:
    return [sys.executable, "-m", "siyu.cli", *args]


def prepare_landing(root: Path, members: int, days: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The landing folder minus its last day (held back), simulated now or reused from the cache."""
    landing, held = root / "landing", root / "held_back"
    stamp_path = root / "simulate.stamp.json"
    wanted = {"members": members, "days": days, "start": START.isoformat(), "seed": SEED,
              "simulator_version": simulator_version()}
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    if stamp.get("parameters") == wanted and landing.is_dir():
        day = stamp["held_back_day"]
        _move_day(day, landing, held)  # a previous bench delivered it
        log(f"simulate: reusing {landing} (simulated {stamp['simulated_at']}; the stamp matches)")
        return {**stamp["simulate"], "cached": True, "simulated_at": stamp["simulated_at"],
                "held_back_day": day, "landing_bytes": stamp.get("landing_bytes")}
    stamp_path.unlink(missing_ok=True)
    for folder in (landing, held, root / "landing.partial"):
        shutil.rmtree(folder, ignore_errors=True)
    partial = root / "landing.partial"
    root.mkdir(parents=True, exist_ok=True)
    log(f"simulate: {members:,} members × {days} days into {landing} …")
    run = run_measured(_siyu("simulate", "--out", str(partial), "--members", str(members), "--days", str(days),
                             "--start", START.isoformat(), "--seed", str(SEED), "--quiet"),
                       _env(root), root / "logs" / "simulate.log")
    if run["returncode"] != 0:
        raise RuntimeError(f"siyu simulate failed (exit {run['returncode']}); see {run['log']}")
    summary = json.loads((partial / "_truth" / "summary.json").read_text())
    os.replace(partial, landing)
    day = _last_day(landing)
    landing_bytes = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file() and "_truth" not in p.parts)
    _move_day(day, landing, held)
    rows = sum(summary["rows"].values())
    measured = {"seconds": run["seconds"], "peak_rss_bytes": run["peak_rss_bytes"], "rows": rows,
                "rows_per_s": round(rows / run["seconds"]) if run["seconds"] else None}
    stamp = {"parameters": wanted, "simulated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "held_back_day": day, "landing_bytes": landing_bytes, "simulate": measured}
    stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")  # last: a half-done simulation is never reused
    return {**measured, "cached": False, "simulated_at": stamp["simulated_at"], "held_back_day": day,
            "landing_bytes": landing_bytes}


# ----------------------------------------------------------------------------------------------
# Builds
# ----------------------------------------------------------------------------------------------


def _size(path: Path) -> int | None:
    if not path.exists():
        return None
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def measure_build(root: Path, phase: str, full_refresh: bool) -> dict[str, Any]:
    warehouse = root / "warehouse" / "siyu.duckdb"
    work_db = warehouse.with_name(warehouse.stem + ".work.duckdb")
    profile_path = warehouse.parent / "logs" / "last-build-profile.json"
    profile_path.unlink(missing_ok=True)
    args = ["build", "--landing", str(root / "landing"), "--warehouse", str(warehouse)]
    run = run_measured(_siyu(*args, *(["--full-refresh"] if full_refresh else [])), _env(root),
                       root / "logs" / f"build-{phase}.log")
    profile = json.loads(profile_path.read_text()) if profile_path.exists() else None
    kept = root / "logs" / f"build-{phase}-profile.json"
    # `siyu build` prints "processing days …" once its job is ready (landing scanned, definitions and dbt manifest loaded)
    ready = next((t for t, text in run["lines"] if "processing days" in text), None)
    overhead = None
    if profile is not None:
        shutil.copyfile(profile_path, kept)
        if profile.get("started_at") and profile.get("finished_at"):
            in_steps = sum(step["seconds"] or 0.0 for step in profile["steps"].values())
            overhead = {"before_run_s": round(profile["started_at"] - run["started"], 3),
                        "until_job_ready_s": round(ready - run["started"], 3) if ready else None,
                        "between_steps_s": round(profile["run_seconds"] - in_steps, 3),
                        "after_run_s": round(run["ended"] - profile["finished_at"], 3)}
    nothing_to_do = profile is None and run["returncode"] == 0
    return {"phase": phase, "returncode": run["returncode"], "log": run["log"], "seconds": run["seconds"],
            "peak_rss_bytes": run["peak_rss_bytes"], "samples": run["samples"], "profile": profile,
            "profile_file": str(kept) if profile is not None else None, "overhead": overhead,
            "nothing_to_do": nothing_to_do,
            "work_db_bytes": _size(work_db), "published_bytes": _size(warehouse)}


def _slim(profile: dict | None) -> dict | None:
    """The profile without its run intervals (they stay in the profile file under logs/)."""
    if not profile:
        return profile
    slim = {**profile, "stages": {k: {n: v for n, v in st.items() if n != "intervals"}
                                  for k, st in profile.get("stages", {}).items()}}
    if slim.get("dbt"):
        slim["dbt"] = {k: v for k, v in slim["dbt"].items() if k != "intervals"}
    return slim


def stage_rows(build: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per stage: seconds, status, peak memory and rows/s for one measured build."""
    profile = build.get("profile") or {}
    rows = profile.get("rows_in") or 0
    samples = build.get("samples") or []
    out: dict[str, dict[str, Any]] = {}
    accounted = 0.0
    for name in STAGES:
        stage = (profile.get("stages") or {}).get(name)
        if stage is None:  # no run: the build found nothing to do (exit 0), or it failed before the run
            status = "skipped" if build["returncode"] == 0 else "no profile"
            out[name] = {"seconds": 0.0 if status == "skipped" else None, "status": status,
                         "peak_rss_bytes": None, "rows_per_s": None}
            continue
        seconds = stage["seconds"]
        accounted += seconds
        ran = stage["status"] == "ran"
        per_s = round(rows / seconds) if ran and rows and seconds > 0 and name != "publish" and name != "docs_dashboard" else None
        out[name] = {"seconds": seconds, "status": stage["status"],
                     "peak_rss_bytes": peak_within(samples, stage["intervals"]) if ran else None,
                     "rows_per_s": per_s}
    total = build["seconds"]
    out["other"] = {"seconds": round(max(total - accounted, 0.0), 3), "status": "ran",
                    "peak_rss_bytes": None, "rows_per_s": None}
    out["total"] = {"seconds": total, "status": "ran" if build["returncode"] == 0 else f"failed (exit {build['returncode']})",
                    "peak_rss_bytes": build["peak_rss_bytes"], "rows_per_s": round(rows / total) if rows and total else None}
    return out


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def speed_check() -> dict[str, float]:
    """Seconds for a fixed piece of work, in Python (one core) and in DuckDB (all cores). The same
    machine kind was measured up to 2× slower from one hour to the next; a check at a bench's start and
    end hints at a slow hour (lower is faster). Only a hint: it read fast during a slow M bench, so
    commits are compared by benching them back to back."""
    import duckdb

    started = time.perf_counter()
    sum(i * i for i in range(3_000_000))
    python_s = time.perf_counter() - started
    con = duckdb.connect()
    try:
        started = time.perf_counter()
        con.execute("select sum(hash(i) % 1000) from range(60000000) t(i)").fetchone()
        duckdb_s = time.perf_counter() - started
    finally:
        con.close()
    return {"python_s": round(python_s, 3), "duckdb_s": round(duckdb_s, 3)}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cores": os.cpu_count(), "platform": platform.platform(),
                            "python": platform.python_version()}
    if hasattr(os, "sched_getaffinity"):
        info["cores_usable"] = len(os.sched_getaffinity(0))
    if hasattr(os, "sysconf"):
        info["ram_bytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
        info["cpu"] = model
    except (OSError, StopIteration):
        pass
    if hasattr(os, "getloadavg"):
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    info["speed_check_at_start"] = speed_check()
    try:
        import duckdb

        info["duckdb"] = duckdb.__version__
    except ImportError:
        pass
    return info


def _mib(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.0f} MiB"


def _mb(n: int | None) -> str:
    return "—" if n is None else f"{n / 1e6:,.1f} MB"


def _secs(s: float | None) -> str:
    return "—" if s is None else f"{s:,.1f} s"


def _rate(r: int | None) -> str:
    return "—" if r is None else f"{r:,}"


def _great_expectations_split(profile: dict[str, Any]) -> str | None:
    """"raw suites 3.2 s (tracking 0.5, …) + mart suites 18.9 s": where a build's Great Expectations time went.
    A raw suite validates only the partitions loaded since its last pass (data_quality.checked_partitions),
    so on a new day its share shrinks; the mart suites read whole marts."""
    raw = {source: entry["ge_seconds"] for source, entry in (profile.get("raw") or {}).items() if "ge_seconds" in entry}
    marts = ((profile.get("steps") or {}).get(MART_CHECK_STEP) or {}).get("seconds")
    if not raw and marts is None:
        return None
    per_source = ", ".join(f"{source} {seconds:.1f}" for source, seconds in sorted(raw.items(), key=lambda kv: -kv[1]))
    parts = [f"raw suites {sum(raw.values()):.1f} s ({per_source})"] if raw else []
    if marts is not None:
        parts.append(f"mart suites {marts:.1f} s")
    return " + ".join(parts)


def format_report(report: dict[str, Any]) -> str:
    """The aligned text table: rows = stages, per build: time, peak memory (process tree), rows/s."""
    builds = report["builds"]
    phases = [(key, title) for key, title in PHASES if key in builds]
    titles = ["simulate", *[STAGE_TITLES[s] for s in STAGES], "other (start-up, between steps)", "total"]
    keys = ["simulate", *STAGES, "other", "total"]
    table: list[list[str]] = []
    sim = report["simulate"]
    for key, title in zip(keys, titles):
        row = [title + (" (cached)" if key == "simulate" and sim.get("cached") else "")]
        for index, (phase, _) in enumerate(phases):
            if key == "simulate":
                if index == 0:
                    row += [_secs(sim.get("seconds")), _mib(sim.get("peak_rss_bytes")), _rate(sim.get("rows_per_s"))]
                else:
                    row += ["", "", ""]
                continue
            cell = builds[phase]["stages"][key]
            if cell["status"] not in ("ran",) and not str(cell["status"]).startswith("failed"):
                row += [str(cell["status"]), "", ""]
            else:
                row += [_secs(cell["seconds"]), _mib(cell["peak_rss_bytes"]), _rate(cell["rows_per_s"])]
        table.append(row)
    table.append(["landing rows processed", *[c for phase, _ in phases
                                              for c in (f"{builds[phase]['rows_in']:,}", "", "")]])
    table.append(["working database", *[c for phase, _ in phases for c in (_mb(builds[phase]["work_db_bytes"]), "", "")]])
    table.append(["published file", *[c for phase, _ in phases for c in (_mb(builds[phase]["published_bytes"]), "", "")]])
    header = ["stage", *[c for _ in phases for c in ("time", "peak RSS", "rows/s")]]
    rows = [header, *table]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]

    def line(r: list[str]) -> str:
        groups = ["  ".join(r[i].rjust(widths[i]) for i in range(1 + 3 * p, 4 + 3 * p)) for p in range(len(phases))]
        return "   ".join([r[0].ljust(widths[0]), *groups]).rstrip()

    spans = [sum(widths[1 + 3 * p: 4 + 3 * p]) + 4 for p in range(len(phases))]
    lines = ["   ".join([" " * widths[0], *(title.center(span) for (_, title), span in zip(phases, spans))]).rstrip(),
             line(header)]
    lines.append("-" * len(lines[-1]))
    lines += [line(r) for r in table]
    m = report["machine"]
    head = (f"siyu bench {report['scale']}: {report['members']:,} members × {report['days']} days "
            f"(seed {report['seed']}, from {report['start']}; day {report['held_back_day']} held back for '+1 day') — "
            f"commit {report['git_commit']}, {m.get('cores')} cores, {m.get('ram_bytes', 0) / 2**30:.0f} GiB RAM, "
            f"load {m.get('load_average_at_start')}")
    notes = [f"peak RSS = sum of the resident memory of the whole process tree (build, dbt, children; shared pages "
             f"count once per process), sampled every {SAMPLE_EVERY_S} s; a stage's peak is the largest sample while it ran.",
             "dbt models / dbt tests = the dbt step split by summed execution time of models+seeds vs tests.",
             "Great Expectations = the raw suites (run inside the raw steps, timed by their duration_s) + the mart check step."]
    checks = [(when, m[f"speed_check_at_{when}"]) for when in ("start", "end") if m.get(f"speed_check_at_{when}")]
    if checks:
        notes.append("machine speed check (fixed work; lower is faster; a hint only: compare commits back to back): "
                     + ", ".join(f"at the {when} Python {c['python_s']:.2f} s, DuckDB {c['duckdb_s']:.2f} s"
                                 for when, c in checks) + ".")
    for phase, title in phases:
        build = builds[phase]
        dbt = ((build.get("profile") or {}).get("dbt") or {}).get("phases") or {}
        if dbt.get("nodes_s") is not None:
            notes.append(f"{title}: dbt step = {dbt['before_nodes_s']:.1f} s start-up + parse, {dbt['nodes_s']:.1f} s running "
                         f"nodes, {dbt['after_nodes_s']:.1f} s after the last node (dagster-dbt events, row counts)")
        ge_split = _great_expectations_split(build.get("profile") or {})
        if ge_split:
            notes.append(f"{title}: Great Expectations = {ge_split}")
        other = build.get("overhead")
        if other:
            ready = other.get("until_job_ready_s")
            events = (build.get("profile") or {}).get("events") or {}
            planned = (f" (writing {events['before_run']:,} planned-materialization events: "
                       f"{events['before_run_s']:.1f} s)" if events.get("before_run_s") is not None else "")
            before = (f"{ready:.1f} s until the job was ready (imports, landing scan, definitions, dbt manifest) + "
                      f"{other['before_run_s'] - ready:.1f} s to start the run{planned}" if ready is not None
                      else f"{other['before_run_s']:.1f} s before the run")
            notes.append(f"{title}: other = {before}, {other['between_steps_s']:.1f} s between steps, "
                         f"{other['after_run_s']:.1f} s after (summary, exit)")
        if build.get("nothing_to_do"):
            notes.append(f"{title}: siyu build found nothing new and ran no job ({build['seconds']:.1f} s)")
    return "\n".join([head, "", *lines, "", *notes])


def run_bench(scale: str, work_dir: Path, json_out: str | None = None, *, members: int | None = None,
              days: int | None = None) -> int:
    """Benchmark one scale; `members` / `days` override it (tests use a tiny custom scale)."""
    scale_members, scale_days = SCALES[scale]
    members, days = members or scale_members, days or scale_days
    custom = (members, days) != (scale_members, scale_days)
    label = f"custom-{members}x{days}" if custom else scale
    root = Path(work_dir).resolve() / label
    if days < 2:
        print("siyu bench: needs at least 2 days (the last one is delivered as '+1 day')", file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    report: dict[str, Any] = {"scale": label, "members": members, "days": days, "start": START.isoformat(),
                              "seed": SEED, "git_commit": git_commit(), "machine": machine(),
                              "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "work_dir": str(root)}
    try:
        report["simulate"] = prepare_landing(root, members, days, log)
    except RuntimeError as error:
        print(f"siyu bench: {error}", file=sys.stderr)
        return 1
    report["held_back_day"] = report["simulate"]["held_back_day"]
    for folder in ("warehouse", "dagster_home"):
        shutil.rmtree(root / folder, ignore_errors=True)
    ensure_instance_yaml(root / "dagster_home")  # the instance siyu build records runs in, as for users

    report["builds"] = {}
    code = 0
    for phase, title in PHASES:
        if phase == "one_day":
            _move_day(report["held_back_day"], root / "held_back", root / "landing")
        log(f"{title}: siyu build{' --full-refresh' if phase == 'full' else ''} …")
        build = measure_build(root, phase, full_refresh=(phase == "full"))
        build["rows_in"] = (build["profile"] or {}).get("rows_in", 0)
        build["stages"] = stage_rows(build)
        del build["samples"]
        build["profile"] = _slim(build["profile"])
        report["builds"][phase] = build
        log(f"{title}: {build['seconds']:.1f} s, peak {_mib(build['peak_rss_bytes'])}, exit {build['returncode']}")
        if build["returncode"] != 0:
            print(f"siyu bench: the {title} failed (exit {build['returncode']}); see {build['log']}", file=sys.stderr)
            code = 1
            break
    if hasattr(os, "getloadavg"):
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["machine"]["speed_check_at_end"] = speed_check()
    report["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = Path(json_out) if json_out else root / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print()
    print(format_report(report))
    print(f"\nJSON: {out}")
    return code
