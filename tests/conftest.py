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
def simulated(tmp_path_factory) -> tuple[Path, Path]:
    """A simulated landing folder (2,000 members × 60 days, with ground truth) and its published warehouse."""
    from siyu.simulator import simulate
    from tests.harness import build_warehouse

    landing = tmp_path_factory.mktemp("sim")
    simulate(landing, members=2000, days=60, start=date(2026, 6, 1), seed=7, progress=False)
    return landing, build_warehouse(landing, tmp_path_factory.mktemp("simbuild"))
