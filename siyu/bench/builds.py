"""One measured `siyu build` of the bench, and its per-stage rows (time, rows per second, peak memory)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..run_profile import STAGES
from .landing import bench_env, siyu_command
from .memory import peak_within, run_measured


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
    run = run_measured(siyu_command(*args, *(["--full-refresh"] if full_refresh else [])), bench_env(root),
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


def slim_profile(profile: dict | None) -> dict | None:
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


