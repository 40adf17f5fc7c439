"""Shared test setup: demo salt, dbt on PATH, one simulated warehouse per session, and the e2e
marker. scripts/test.sh distributes by file (`--dist loadfile`): each module's expensive builds
happen once, on one xdist worker."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("SIYU_DEMO", "1")
# The suite's Spark builds are short and small: the JVM without its C2 JIT spends about a fifth less CPU
# on them (siyu/engines/spark/session.py), CPU the other xdist worker needs
os.environ.setdefault("SIYU_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

# End-to-end tests build a warehouse (siyu build, dbt, the Dagster webserver): `-m e2e` runs them,
# `-m "not e2e"` the fast unit tests (seconds each). A test is end-to-end when its module always
# builds, or it uses a fixture that does.
E2E_MODULES = {
    "test_bi_connection", "test_community_marts", "test_dagster_ui", "test_forget", "test_idempotency",
    "test_members", "test_operator_queries", "test_packaging", "test_pipeline_e2e", "test_secrets", "test_value_marts",
}
E2E_FIXTURES = {"simulated", "sequence"}
E2E_TESTS = {"test_bench_end_to_end_at_a_tiny_scale", "test_a_build_on_a_terminal_shows_its_stages_and_dbts_nodes"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        if (module in E2E_MODULES or E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.originalname in E2E_TESTS):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def simulated(tmp_path_factory, worker_id) -> tuple[Path, Path]:
    """A simulated landing folder (2,000 members × 60 days, with ground truth) and its published
    warehouse, which tests only read. Built once per test session: xdist workers share it through
    the session's base folder (the first one builds, under a file lock; the others wait for it)."""
    from filelock import FileLock

    from siyu.simulator import simulate
    from tests.harness import build_warehouse

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # pytest-N/, the parent of every worker's popen-gwK/
    landing, work = shared / "simulated-landing", shared / "simulated-build"
    with FileLock(str(shared / "simulated.lock")):
        if not (work / "ready").exists():
            simulate(landing, members=2000, days=60, start=date(2026, 6, 1), seed=7, progress=False)
            build_warehouse(landing, work)
            (work / "ready").touch()
    return landing, work / "warehouse.duckdb"
