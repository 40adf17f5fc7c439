"""Build a warehouse from a landing folder the way users do, for tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]


def siyu_env(work_dir: Path, dagster_home: bool = False) -> dict[str, str]:
    """The environment of a `siyu` subprocess in a test. Without `dagster_home`, runs go to an
    in-memory Dagster instance (SIYU_EPHEMERAL_RUNS=1; `siyu build` otherwise records them beside
    the warehouse): tests of the run history ask for one."""
    env = dict(os.environ)
    env.update({
        "SIYU_DEMO": "1",
        "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    })
    env.pop("DAGSTER_HOME", None)
    if dagster_home:
        env["DAGSTER_HOME"] = str(work_dir / "dagster_home")
    else:
        env["SIYU_EPHEMERAL_RUNS"] = "1"
    env.setdefault("SIYU_BUILD_DOCS", "0")  # the docs site is tested where it is needed (test_operator_queries)
    return env


def build_warehouse(landing: Path, work_dir: Path) -> Path:
    """Run `siyu build` on a landing folder; returns the published DuckDB file."""
    work_dir.mkdir(parents=True, exist_ok=True)
    warehouse = work_dir / "warehouse.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "siyu.cli", "build", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=REPO, env=siyu_env(work_dir), capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"siyu build failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return warehouse


def build_with_dbt_only(landing: Path, work_dir: Path, select: str | None = None) -> Path:
    """Faster inner loop for mart development: raw load + `dbt build`, no Dagster, no publish."""
    from siyu.landing.loader import load_landing

    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "work.duckdb"
    con = duckdb.connect(str(db))
    try:
        load_landing(con, landing)
    finally:
        con.close()
    env = siyu_env(work_dir) | {"SIYU_WORK_DB": str(db), "DBT_PROFILES_DIR": str(REPO / "dbt_project")}
    cmd = [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", str(REPO / "dbt_project"), "--target-path", str(work_dir / "target")]
    if select:
        # cautious: a test runs only when all its parents are selected (no test on an unbuilt seed)
        cmd += ["--select", select, "--indirect-selection", "cautious"]
    result = subprocess.run(cmd, cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"dbt build failed:\n{result.stdout[-8000:]}")
    return db


INTERNAL_LAYERS = re.compile(r"\b(raw\.(?!quarantine\b)|staging\.|intermediate\.)")


def working_db(published: Path) -> Path:
    """The pipeline's private working database beside a published file (siyu.settings' naming)."""
    return published.with_name(published.stem + ".work.duckdb")


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Run a query on a built warehouse. The published file holds only the readers' layers (marts,
    reference, the quarantine ledger); a query on raw, staging or intermediate reads the working twin."""
    if INTERNAL_LAYERS.search(sql) and working_db(Path(db)).exists():
        db = working_db(Path(db))
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
