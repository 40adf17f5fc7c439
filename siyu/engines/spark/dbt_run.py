"""Step 4 of a Spark build: `dbt build --target spark` in this process, its outcome per node."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from .layout import SparkLayout


@dataclass
class DbtOutcome:
    success: bool
    seconds: float
    failed: list[str] = field(default_factory=list)  # "<unique_id>: <status>: <message>"
    marts: list[str] = field(default_factory=list)  # mart tables dbt built in this run
    counts: dict[str, int] = field(default_factory=dict)  # status -> nodes


PARTIAL_PARSE = "partial_parse.msgpack"


def reuse_partial_parse(layout: SparkLayout, build_dir: Path) -> None:
    """dbt's parse of the last Spark build, for this one (≈ 5 s less). Safe to reuse: the spark profile
    names no path under DIR, and dbt itself re-parses whatever changed or discards a stale file."""
    kept = layout.work / PARTIAL_PARSE
    if kept.exists():
        (build_dir / "dbt-target").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, build_dir / "dbt-target" / PARTIAL_PARSE)


def keep_partial_parse(layout: SparkLayout, build_dir: Path) -> None:
    parsed = build_dir / "dbt-target" / PARTIAL_PARSE
    if parsed.exists():
        layout.work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed, layout.work / PARTIAL_PARSE)


def dbt_args(project_dir: Path, build_dir: Path, select: Sequence[str] | None, dbt_vars: str | None) -> list[str]:
    args = ["build", "--target", "spark", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(build_dir / "dbt-target"), "--log-path", str(build_dir / "dbt-logs"),
            "--log-level-file", os.environ.get("DBT_LOG_LEVEL_FILE", "info"),
            "--exclude-resource-type", "unit_test"]  # dbt's unit tests run in the test suite (tests/test_dbt_unit_tests.py)
    if not sys.stdout.isatty():
        args.append("--no-use-colors")  # no escape codes in a redirected log or a scheduler's output
    if select:
        # cautious: a test runs only when all its parents are built in this run. Every Spark build
        # declares a new catalog, so a `relationships` test to a model left out (dbt's default, eager,
        # would select it) finds no table to read and fails the build
        args += ["--select", *select, "--indirect-selection", "cautious"]
    if dbt_vars:
        args += ["--vars", dbt_vars]
    return args


def _results(result: Any) -> Iterator[Any]:
    yield from getattr(result, "results", None) or []


def failure_cause(message: str | None) -> str:
    """The telling line of a dbt node's message: dbt's first line only says "Runtime Error in model …"."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    # dbt-spark's runtime errors start "Runtime Error in model … (path)" then "Runtime Error"
    while len(lines) > 1 and (lines[0].endswith(" Error") or (" Error in " in lines[0] and lines[0].endswith(")"))):
        lines = lines[1:]
    return lines[0][:300] if lines else "(no message; see dbt's log)"


def run_dbt(project_dir: Path, build_dir: Path, select: Sequence[str] | None = None,
            dbt_vars: str | None = None) -> DbtOutcome:
    """`dbt build --target spark` in this process: dbt-spark's session method reuses our SparkSession."""
    from dbt.cli.main import dbtRunner

    started = time.monotonic()
    invocation = dbtRunner().invoke(dbt_args(project_dir, build_dir, select, dbt_vars))
    outcome = DbtOutcome(success=bool(invocation.success), seconds=time.monotonic() - started)
    for result in _results(invocation.result):
        status = str(getattr(result.status, "value", result.status))
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        node = result.node
        if status in ("error", "fail", "runtime error"):
            outcome.failed.append(f"{node.unique_id}: {status}: {failure_cause(result.message)}")
        elif node.resource_type == "model" and node.schema == "marts" and status == "success":
            outcome.marts.append(node.alias)
    if not outcome.success and not outcome.failed:
        outcome.failed.append(f"dbt: {invocation.exception or 'failed before running any node (see the log)'}")
    return outcome
