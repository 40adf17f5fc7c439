"""Shared test setup: demo salt, dbt on PATH, warehouses built once per session (`simulated`,
`operator_build`), and the e2e marker. scripts/test.sh distributes by file (`--dist loadfile`): each
module's expensive builds happen once, on one xdist worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("SIYU_DEMO", "1")
# The suite's Spark builds are short and small: the JVM without its C2 JIT spends about a fifth less CPU
# on them (siyu/engines/spark/session.py), CPU the other xdist worker needs
os.environ.setdefault("SIYU_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
# … and Spark interpreting its plans instead of compiling Java for each (whole-stage and expression
# code generation off) spends about a fifth less on the landing example's dbt build (65.8 → 52.8 s);
# the parity test still holds the result to the DuckDB engine's, row for row
os.environ.setdefault("SIYU_SPARK_CONF", "spark.sql.codegen.wholeStage=false spark.sql.codegen.factoryMode=NO_CODEGEN")
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

# End-to-end tests build a warehouse (siyu build, dbt, the Dagster webserver): `-m e2e` runs them,
# `-m "not e2e"` the fast unit tests (seconds each). A test is end-to-end when its module always
# builds, or it uses a fixture that does.
E2E_MODULES = {
    "test_bi_connection", "test_community_marts", "test_dagster_ui", "test_forget", "test_idempotency",
    "test_members", "test_operator_queries", "test_packaging", "test_pipeline_e2e", "test_secrets", "test_value_marts",
}
E2E_FIXTURES = {"simulated", "sequence", "operator_build"}
E2E_TESTS = {"test_bench_end_to_end_at_a_tiny_scale", "test_a_build_on_a_terminal_shows_its_stages_and_dbts_nodes"}


# The slowest modules, slowest first (`--durations` on 2 cores). Under `--dist loadfile` a module runs
# whole on one worker in the order collected (scripts/test.sh passes --no-loadscope-reorder, else xdist
# would order modules by their number of tests): a long module picked up last keeps one worker busy
# while the other has nothing left. test_engine_parity goes first as it also builds the shared
# `simulated` warehouse that later modules read; test_bi_connection builds `operator_build` (docs site
# included) which test_operator_queries, later, only reads; test_idempotency comes a while after
# test_publish, whose first-half build it shares (the second to ask waits for the first to build it).
SLOWEST_FIRST = (
    "test_engine_parity", "test_forget", "test_bi_connection", "test_secrets", "test_publish", "test_dagster_ui",
    "test_spark_engine", "test_recovery", "test_members", "test_idempotency", "test_identity_incremental",
    "test_operator_queries", "test_packaging", "test_progress", "test_pipeline_e2e", "test_dbt_partial_parse",
)


def _module(item: pytest.Item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if (_module(item) in E2E_MODULES or E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.originalname in E2E_TESTS):
            item.add_marker(pytest.mark.e2e)
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(_module(item), index)
    rank = {name: position for position, name in enumerate(SLOWEST_FIRST)}
    # stable: each module's tests keep their order and stay together
    items.sort(key=lambda item: (rank.get(_module(item), len(rank)), first_seen[_module(item)]))


@pytest.fixture(scope="session", autouse=True)
def dbt_forked_from_a_warm_server():
    """Every dbt run of this pytest process (the builds' `dbt build`, `dbt parse`, `dbt docs`) forks
    from a server that has imported dbt once (tests/dbt_forkserver.py): ≈ 3 s of CPU less per run.
    SIYU_TEST_DBT_FORKSERVER=0 runs the installed dbt command instead."""
    if os.environ.get("SIYU_TEST_DBT_FORKSERVER") == "0" or os.environ.get("SIYU_DBT_EXECUTABLE"):
        yield
        return
    scratch = Path(tempfile.mkdtemp(prefix="siyu-dbt-"))  # short: a socket path has at most 107 bytes
    socket_path = scratch / "server.sock"
    server = subprocess.Popen([sys.executable, "-m", "tests.dbt_forkserver", str(socket_path)],
                              cwd=Path(__file__).resolve().parents[1], stdin=subprocess.DEVNULL)
    client = scratch / "dbt"
    client.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S "{Path(__file__).with_name("dbt_client.py")}" "$@"\n')
    client.chmod(0o755)
    os.environ.update({"SIYU_DBT_EXECUTABLE": str(client), "SIYU_TEST_DBT_SERVER": str(socket_path),
                       "SIYU_TEST_REAL_DBT": str(Path(sys.executable).parent / "dbt")})
    try:
        yield
    finally:
        server.kill()
        server.wait()
        for name in ("SIYU_DBT_EXECUTABLE", "SIYU_TEST_DBT_SERVER", "SIYU_TEST_REAL_DBT"):
            os.environ.pop(name, None)


def build_once(tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str,
               build: Callable[[Path, Path], None]) -> tuple[Path, Path]:
    """(landing folder, published file) of a build shared by the whole test session: `build(landing,
    work)` runs once, in the session's base folder, which every xdist worker sees (the first to ask
    builds, under a file lock; the others wait for it). Readers only read it; a test that goes on from
    it works on a copy (tests.harness.copy_build)."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # pytest-N/, the parent of every worker's popen-gwK/
    landing, work = shared / f"{name}-landing", shared / f"{name}-build"
    with FileLock(str(shared / f"{name}.lock")):
        if not (work / "ready").exists():
            try:
                build(landing, work)
            except BaseException:
                # the next to ask builds again from nothing, not over a half-written folder
                shutil.rmtree(landing, ignore_errors=True)
                shutil.rmtree(work, ignore_errors=True)
                raise
            (work / "ready").touch()
    return landing, work / "warehouse.duckdb"


@pytest.fixture(scope="session")
def simulated(tmp_path_factory, worker_id) -> tuple[Path, Path]:
    """A simulated landing folder (2,000 members × 60 days, with ground truth) and its published
    warehouse, which tests only read."""
    from siyu.simulator import simulate
    from tests.harness import build_warehouse

    def build(landing: Path, work: Path) -> None:
        simulate(landing, members=2000, days=60, start=date(2026, 6, 1), seed=7, progress=False)
        build_warehouse(landing, work)

    return build_once(tmp_path_factory, worker_id, "simulated", build)


@pytest.fixture(scope="session")
def operator_build(tmp_path_factory, worker_id) -> tuple[Path, Path]:
    """The hand-made landing of tests/test_operator_queries.py and its published warehouse, built with
    the dbt docs site: that module reads it, tests/test_bi_connection.py goes on from a copy."""
    from tests.harness import build_warehouse
    from tests.test_operator_queries import write_landing

    def build(landing: Path, work: Path) -> None:
        write_landing(landing)
        build_warehouse(landing, work, docs=True)

    return build_once(tmp_path_factory, worker_id, "operator-queries", build)
