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

Modules: `memory` (a process tree's resident memory, sampled), `landing` (simulate once, hold the
last day back), `builds` (one measured `siyu build` and its stage rows), `report` (the machine, the
table). This module runs them in order.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dagster_project.instance import ensure_instance_yaml

from ..run_profile import STAGES
from ..settings import REPO_ROOT
from .builds import measure_build, slim_profile, stage_rows
from .landing import SCALES, SEED, START, move_day, prepare_landing
from .memory import peak_within, run_measured
from .report import PHASES, format_report, git_commit, machine, mib, speed_check

__all__ = ["REPO_ROOT", "SCALES", "STAGES", "format_report", "git_commit", "machine", "move_day", "peak_within",
           "prepare_landing", "run_bench", "run_measured", "stage_rows"]


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
            move_day(report["held_back_day"], root / "held_back", root / "landing")
        log(f"{title}: siyu build{' --full-refresh' if phase == 'full' else ''} …")
        build = measure_build(root, phase, full_refresh=(phase == "full"))
        build["rows_in"] = (build["profile"] or {}).get("rows_in", 0)
        build["stages"] = stage_rows(build)
        del build["samples"]
        build["profile"] = slim_profile(build["profile"])
        report["builds"][phase] = build
        log(f"{title}: {build['seconds']:.1f} s, peak {mib(build['peak_rss_bytes'])}, exit {build['returncode']}")
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
