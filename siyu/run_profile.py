"""Where a `siyu build` spent its time: one JSON per run, from the Dagster run's events.

`siyu build` writes it to `<working database dir>/logs/last-build-profile.json`; `siyu bench`
reads it. The profile holds

* `steps`: every Dagster step (``raw__tracking``, ``dbt_models``, ``mart_quality_checks``,
  ``published_warehouse``, ``dbt_docs``, ``dashboard``) with its status, duration and, when the
  run is stored in a persistent instance (``DAGSTER_HOME``), its start and end (epoch seconds);
* `raw`: per source, the landing rows read (`rows_in`) and the seconds of its Great
  Expectations suite (the check runs inside the raw step; its own `duration_s` metadata);
* `dbt`: dbt's `run_results.json` of the run's `dbt build` — summed `execution_time` of
  models + seeds and of tests, and when each node ran;
* `stages`: the build cut into raw load, dbt models, dbt tests, Great Expectations, publish
  and docs/dashboard. The dbt step is split between models and tests in the ratio of their
  summed execution times (dbt runs them interleaved on several threads); the raw GE suites are
  taken out of the raw steps. Each stage lists the `[start, end]` intervals it ran in, so a
  memory sampler can attribute its peaks.

Writing a profile never fails a build: any error is reported on stderr and skipped.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

STAGES = ("raw_load", "dbt_models", "dbt_tests", "great_expectations", "publish", "docs_dashboard")
STAGE_TITLES = {
    "raw_load": "raw load",
    "dbt_models": "dbt models",
    "dbt_tests": "dbt tests",
    "great_expectations": "Great Expectations",
    "publish": "publish",
    "docs_dashboard": "docs/dashboard",
}
DBT_STEP = "dbt_models"
MART_CHECK_STEP = "mart_quality_checks"
PUBLISH_STEPS = ("published_warehouse",)
DOCS_STEPS = ("dbt_docs", "dashboard")
RAW_PREFIX = "raw__"
GE_CHECK_NAME = "great_expectations_suite"
MODEL_KINDS = ("model", "seed", "snapshot")
TEST_KINDS = ("test", "unit_test")

# Dagster still logs runs as PIPELINE_*
RUN_START = ("RUN_START", "PIPELINE_START")
RUN_END = ("RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED", "PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED")
_STEP_END = {"STEP_SUCCESS": "success", "STEP_FAILURE": "failure", "STEP_SKIPPED": "skipped",
             "STEP_UP_FOR_RETRY": "retry"}


def write_run_profile(result: Any, path: str | Path) -> dict | None:
    """Profile the run `result` (an ``ExecuteInProcessResult``) and write it as JSON to `path`."""
    try:
        entries = _stored_entries(result.run_id)
        if entries is None:  # ephemeral instance: events without timestamps
            entries = [(None, event) for event in result.all_events]
        profile = build_profile(entries, run_id=result.run_id, success=result.success)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(profile, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(partial, path)
        return profile
    except Exception as error:  # a profile is a diagnostic: never let it break the build
        print(f"siyu build: could not write the run profile {path}: {type(error).__name__}: {error}", file=sys.stderr)
        return None


def _stored_entries(run_id: str) -> list[tuple[float, Any]] | None:
    """(timestamp, DagsterEvent) of the run from the DAGSTER_HOME instance, or None without one."""
    if not os.environ.get("DAGSTER_HOME"):
        return None
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    try:
        return [(entry.timestamp, entry.dagster_event) for entry in instance.all_logs(run_id)
                if entry.dagster_event is not None]
    finally:
        instance.dispose()


# ----------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------


def _value(metadata: Any, key: str) -> Any:
    """A metadata entry's plain value (Dagster wraps them in MetadataValue objects)."""
    if not metadata or key not in metadata:
        return None
    entry = metadata[key]
    return getattr(entry, "value", entry)


def build_profile(entries: Iterable[tuple[float | None, Any]], run_id: str | None = None,
                  success: bool | None = None, dbt_target: Path | None = None) -> dict:
    """The profile of one run from its (timestamp or None, DagsterEvent) pairs, in event order."""
    steps: dict[str, dict[str, Any]] = {}
    raw: dict[str, dict[str, Any]] = {}
    mart_checks: dict[str, float] = {}
    invocation_id = None
    run_start = run_end = first_event = None
    counts = {"total": 0, "planned": 0, "before_run": 0}
    for ts, event in entries:
        kind = event.event_type_value
        key = event.step_key
        counts["total"] += 1
        counts["planned"] += kind.endswith("_PLANNED")
        counts["before_run"] += run_start is None and kind not in RUN_START
        if first_event is None:
            first_event = ts
        if kind in RUN_START:
            run_start = ts
        elif kind in RUN_END:
            run_end = ts
        if key is None:
            continue
        step = steps.setdefault(key, {"status": "not run", "start": None, "end": None, "seconds": None})
        if kind.endswith("_PLANNED"):  # planned, and "not run" unless it starts
            continue
        if kind == "STEP_START":
            step["status"] = "started"
            step["start"] = ts
        elif kind in _STEP_END:
            step["status"] = _STEP_END[kind]
            step["end"] = ts
            duration_ms = getattr(event.event_specific_data, "duration_ms", None) if kind == "STEP_SUCCESS" else None
            if duration_ms is not None:
                step["seconds"] = duration_ms / 1000
            elif step["start"] is not None and ts is not None:
                step["seconds"] = ts - step["start"]
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            metadata = materialization.metadata
            path = materialization.asset_key.path
            if key.startswith(RAW_PREFIX) and len(path) == 2 and path[0] == "raw":
                source = raw.setdefault(path[1], {"step": key})
                for name in ("rows_in", "rows_loaded", "rows_quarantined", "partitions_loaded", "partitions_unchanged"):
                    if _value(metadata, "run_" + name) is not None:  # the run's totals, on every partition
                        source[name] = int(_value(metadata, "run_" + name))
            if invocation_id is None and _value(metadata, "invocation_id"):
                invocation_id = str(_value(metadata, "invocation_id"))
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.asset_check_evaluation_data
            seconds = _value(evaluation.metadata, "duration_s")
            path = evaluation.asset_key.path
            if key.startswith(RAW_PREFIX) and evaluation.check_name == GE_CHECK_NAME and len(path) == 2:
                raw.setdefault(path[1], {"step": key})["ge_seconds"] = float(seconds or 0.0)
            elif key == MART_CHECK_STEP:
                mart_checks[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = float(seconds or 0.0)
    for step in steps.values():  # a started step with no end event (the process died): no duration
        if step["seconds"] is not None:
            step["seconds"] = round(step["seconds"], 3)
    dbt = None
    if DBT_STEP in steps and steps[DBT_STEP]["status"] != "skipped":
        dbt = read_run_results(find_run_results(run_id, invocation_id, dbt_target))
    timed = run_start is not None and run_end is not None
    if dbt and DBT_STEP in steps:
        dbt["phases"] = dbt_phases(steps[DBT_STEP], dbt)
    return {
        "run_id": run_id,
        "success": success,
        "timestamps": any(s["start"] is not None for s in steps.values()),
        "started_at": run_start,
        "finished_at": run_end,
        "run_seconds": round(run_end - run_start, 3) if timed else None,
        # with a persistent instance, Dagster stores one *_PLANNED event per asset and partition before the run
        # starts: a full build over many days writes thousands
        "events": {**counts, "first_at": first_event,
                   "before_run_s": round(run_start - first_event, 3) if run_start is not None and first_event is not None else None},
        "rows_in": sum(s.get("rows_in", 0) for s in raw.values()),
        "steps": steps,
        "raw": raw,
        "mart_checks": mart_checks,
        "dbt": dbt,
        "stages": stages(steps, raw, dbt),
    }


def find_run_results(run_id: str | None, invocation_id: str | None = None, target: Path | None = None) -> Path | None:
    """run_results.json of this run's dbt invocation: dagster-dbt writes each invocation to
    `<target>/<op name>-<run id[:7]>-<random>/`; `invocation_id` picks between several."""
    if not run_id:
        return None
    if target is None:
        from .settings import DBT_PROJECT_DIR

        target = Path(os.environ.get("DBT_TARGET_PATH", "target"))
        if not target.is_absolute():
            target = DBT_PROJECT_DIR / target
    found = sorted(target.glob(f"*-{run_id[:7]}-*/run_results.json"), key=lambda p: p.stat().st_mtime)
    if invocation_id:
        for path in reversed(found):
            try:
                if json.loads(path.read_text(encoding="utf-8"))["metadata"]["invocation_id"] == invocation_id:
                    return path
            except (OSError, ValueError, KeyError):
                continue
    return found[-1] if found else None


def _epoch(iso: str | None) -> float | None:
    """Epoch seconds of one of dbt's timestamps (UTC, with or without the Z)."""
    if not iso:
        return None
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def read_run_results(path: Path | None) -> dict | None:
    """Summed execution time and run intervals per dbt resource type (model, seed, test, …)."""
    if path is None or not Path(path).exists():
        return None
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    execution: dict[str, float] = {}
    counts: dict[str, int] = {}
    intervals: dict[str, list[list[float]]] = {}
    for node in data.get("results", []):
        kind = node["unique_id"].split(".", 1)[0]
        execution[kind] = execution.get(kind, 0.0) + float(node.get("execution_time") or 0.0)
        counts[kind] = counts.get(kind, 0) + 1
        times = [(_epoch(t.get("started_at")), _epoch(t.get("completed_at"))) for t in node.get("timing", [])]
        times = [(a, b) for a, b in times if a is not None and b is not None]
        if times:
            intervals.setdefault(kind, []).append([min(a for a, _ in times), max(b for _, b in times)])
    starts = [a for ivs in intervals.values() for a, _ in ivs]
    ends = [b for ivs in intervals.values() for _, b in ivs]
    return {
        "run_results": str(path),
        "first_node_start": min(starts, default=None),
        "last_node_end": max(ends, default=None),
        "invocation_id": data.get("metadata", {}).get("invocation_id"),
        "elapsed_s": data.get("elapsed_time"),
        "nodes": counts,
        "execution_s": {k: round(v, 3) for k, v in execution.items()},
        "intervals": intervals,
    }


def dbt_phases(step: dict, dbt: dict) -> dict[str, float | None]:
    """The dbt step in three: before the first node (dbt start-up, parse), the nodes, and after the
    last node (dagster-dbt turning dbt's events into Dagster events, row counts)."""
    start, end = step.get("start"), step.get("end")
    first, last = dbt.get("first_node_start"), dbt.get("last_node_end")
    if None in (start, end, first, last):
        return {"before_nodes_s": None, "nodes_s": None, "after_nodes_s": None}
    return {"before_nodes_s": round(max(first - start, 0.0), 3), "nodes_s": round(last - first, 3),
            "after_nodes_s": round(max(end - last, 0.0), 3)}


def _merge(intervals: Sequence[Sequence[float]]) -> list[list[float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def stages(steps: dict[str, dict], raw: dict[str, dict], dbt: dict | None) -> dict[str, dict]:
    """Seconds, status ("ran" / "skipped") and run intervals of each stage of the build."""
    out = {name: {"seconds": 0.0, "status": "skipped", "intervals": []} for name in STAGES}

    def add(stage: str, seconds: float | None, interval: tuple[float | None, float | None] | None = None) -> None:
        out[stage]["seconds"] += max(seconds or 0.0, 0.0)
        out[stage]["status"] = "ran"
        if interval and interval[0] is not None and interval[1] is not None and interval[1] >= interval[0]:
            out[stage]["intervals"].append([interval[0], interval[1]])

    ge_by_step = {s["step"]: s.get("ge_seconds", 0.0) for s in raw.values()}
    for key, step in steps.items():
        if step["status"] in ("skipped", "not run"):
            continue
        seconds = step["seconds"] if step["seconds"] is not None else 0.0
        start, end = step["start"], step["end"]
        if key.startswith(RAW_PREFIX):
            ge = min(ge_by_step.get(key, 0.0), seconds)
            split = end - ge if end is not None else None  # the suite runs at the end of the step
            add("raw_load", seconds - ge, (start, split))
            if ge:
                add("great_expectations", ge, (split, end))
        elif key == MART_CHECK_STEP:
            add("great_expectations", seconds, (start, end))
        elif key in PUBLISH_STEPS:
            add("publish", seconds, (start, end))
        elif key in DOCS_STEPS:
            add("docs_dashboard", seconds, (start, end))
        elif key == DBT_STEP:
            whole = [[start, end]] if start is not None and end is not None else []
            if not dbt:  # no run_results.json: the step cannot be split
                add("dbt_models", seconds)
                out["dbt_models"]["intervals"] += whole
                out["dbt_tests"]["status"] = "in models"  # no run_results.json
                continue
            execution, nodes = dbt["execution_s"], dbt["intervals"]
            models = sum(execution.get(k, 0.0) for k in MODEL_KINDS)
            tests = sum(execution.get(k, 0.0) for k in TEST_KINDS)
            share = models / (models + tests) if models + tests > 0 else 1.0
            add("dbt_models", seconds * share)
            out["dbt_models"]["intervals"] += [iv for k in MODEL_KINDS for iv in nodes.get(k, [])] or whole
            if any(dbt["nodes"].get(k) for k in TEST_KINDS):
                add("dbt_tests", seconds * (1 - share))
                out["dbt_tests"]["intervals"] += [iv for k in TEST_KINDS for iv in nodes.get(k, [])] or whole
    for stage in out.values():
        stage["seconds"] = round(stage["seconds"], 3)
        stage["intervals"] = _merge(stage["intervals"])
    return out
