"""What the bench reports besides the builds (the machine, the commit) and its table."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from typing import Any

from ..run_profile import MART_CHECK_STEP, STAGE_TITLES, STAGES
from ..settings import REPO_ROOT
from .memory import SAMPLE_EVERY_S

PHASES = (("full", "full build"), ("one_day", "+1 day"), ("nothing_new", "nothing new"))

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


def mib(n: int | None) -> str:
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
                    row += [_secs(sim.get("seconds")), mib(sim.get("peak_rss_bytes")), _rate(sim.get("rows_per_s"))]
                else:
                    row += ["", "", ""]
                continue
            cell = builds[phase]["stages"][key]
            if cell["status"] not in ("ran",) and not str(cell["status"]).startswith("failed"):
                row += [str(cell["status"]), "", ""]
            else:
                row += [_secs(cell["seconds"]), mib(cell["peak_rss_bytes"]), _rate(cell["rows_per_s"])]
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


