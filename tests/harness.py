"""Build a warehouse from a landing folder the way users do, for tests."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import duckdb

from siyu.dbt_partial_parse import seed_partial_parse
from siyu.settings import dbt_executable

REPO = Path(__file__).resolve().parents[1]


def siyu_env(work_dir: Path, dagster_home: bool = False, *, warehouse: Path | None = None,
             landing: Path | None = None) -> dict[str, str]:
    """The environment of a `siyu` subprocess in a test. Without `dagster_home`, runs go to an
    in-memory Dagster instance (SIYU_EPHEMERAL_RUNS=1; `siyu build` otherwise records them beside
    the warehouse): tests of the run history ask for one. `warehouse` and `landing` set
    SIYU_WAREHOUSE and SIYU_LANDING_DIR, for commands that take them from the environment
    (`siyu forget`, `dagster dev`)."""
    env = dict(os.environ)
    if warehouse is not None:
        env["SIYU_WAREHOUSE"] = str(warehouse)
    if landing is not None:
        env["SIYU_LANDING_DIR"] = str(landing)
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


def with_installed_dbt(env: dict[str, str]) -> dict[str, str]:
    """`env` with dbt as the installed `dbt` command, a child of the run in its process group, instead
    of forked from the suite's dbt server (tests/dbt_forkserver.py, whose dbt children belong to the
    server and import from its sys.path): for tests of signals, process groups and installed wheels."""
    return env | {"SIYU_DBT_EXECUTABLE": str(Path(sys.executable).parent / "dbt")}


# `siyu …` runs in a process of its own, as users run it, but forked from a server that has imported
# the pipeline's modules once (Dagster, dagster-dbt, Great Expectations: ≈ 10 s a process) instead of
# a fresh interpreter per run: the ≈ 35 builds of the suite each start in a fraction of a second.
# Each run still gets a new process, its own environment, working directory and output files.
_PRELOAD = ["tests.harness", "siyu.cli", "siyu.build", "dagster_project.definitions", "data_quality.runner",
            "data_quality.mart_suites", "siyu.summary", "siyu.forget"]
_forkserver: multiprocessing.context.ForkServerContext | None = None


def _context() -> multiprocessing.context.ForkServerContext:
    global _forkserver
    if _forkserver is None:
        _forkserver = multiprocessing.get_context("forkserver")
        _forkserver.set_forkserver_preload(_PRELOAD)
    return _forkserver


def _siyu_in_this_process(args: list[str], env: dict[str, str], cwd: str, stdout: str, stderr: str) -> None:
    """The forked child: `python -m siyu.cli ARGS` minus the interpreter start."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, stdout), (2, stderr)):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, fd)
        os.close(out)
    sys.argv = ["siyu", *args]
    from siyu.cli import entrypoint

    try:
        entrypoint()  # leaves with os._exit(code) after flushing
    except SystemExit as leaving:  # argparse's usage errors
        sys.stderr.flush()
        os._exit(leaving.code if isinstance(leaving.code, int) else 1)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


def run_siyu(args: list[str], env: dict[str, str], cwd: Path = REPO,
             timeout: float | None = 900) -> subprocess.CompletedProcess:
    """`siyu ARGS` in a new process (see above); the result as `subprocess.run(..., text=True)` gives it."""
    with tempfile.TemporaryDirectory(prefix="siyu-run-") as scratch:
        stdout, stderr = Path(scratch) / "stdout", Path(scratch) / "stderr"
        child = _context().Process(target=_siyu_in_this_process,
                                   args=(list(args), dict(env), str(cwd), str(stdout), str(stderr)))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(["siyu", *args], timeout or 0)
        read = lambda path: path.read_text(errors="replace") if path.exists() else ""  # noqa: E731
        return subprocess.CompletedProcess(["siyu", *args], child.exitcode, read(stdout), read(stderr))


def build_warehouse(landing: Path, work_dir: Path, docs: bool = False) -> Path:
    """Run `siyu build` on a landing folder (with `docs`, also the dbt docs site); returns the published
    DuckDB file."""
    work_dir.mkdir(parents=True, exist_ok=True)
    warehouse = work_dir / "warehouse.duckdb"
    env = siyu_env(work_dir)
    if docs:
        env["SIYU_BUILD_DOCS"] = "1"
    result = run_siyu(["build", "--landing", str(landing), "--warehouse", str(warehouse)], env)
    if result.returncode != 0:
        raise AssertionError(f"siyu build failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return warehouse


def build_with_dbt_only(landing: Path, work_dir: Path, select: str | None = None) -> Path:
    """Faster inner loop for mart development: raw load + `dbt build`, no Dagster, no publish."""
    from siyu.landing.loader import load_landing

    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "warehouse.work.duckdb"  # the name `siyu build` gives it: dbt's last parse fits (restamped)
    con = duckdb.connect(str(db))
    try:
        load_landing(con, landing)
    finally:
        con.close()
    env = siyu_env(work_dir) | {"SIYU_WORK_DB": str(db), "DBT_PROFILES_DIR": str(REPO / "dbt_project")}
    seed_partial_parse(REPO / "dbt_project" / "target", work_dir / "target", db)
    cmd = [dbt_executable(), "build", "--project-dir", str(REPO / "dbt_project"), "--target-path", str(work_dir / "target"),
           "--exclude-resource-type", "unit_test"]
    if select:
        # cautious: a test runs only when all its parents are selected (no test on an unbuilt seed)
        cmd += ["--select", select, "--indirect-selection", "cautious"]
    result = subprocess.run(cmd, cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    (work_dir / "dbt-build.log").write_text(result.stdout)  # the last build's output, for tests that read it
    if result.returncode != 0:
        raise AssertionError(f"dbt build failed:\n{result.stdout[-8000:]}")
    return db


def copy_build(source: Path, target: Path) -> Path:
    """A copy of a whole build folder as `siyu build` left it (working and published databases, their
    sidecar files, logs, docs) for a test that goes on from that state; returns the target folder.
    Left out: lock files (the kernel's flock on a file of its own) and a Dagster home (run history of
    the source). Nothing kept names its own path in a way a later build relies on: the file ledger
    holds paths relative to the landing folder and each file's stat, which a copy changes (the next
    build compares those files by content hash); the published state holds the published file's
    inode (a build finding nothing new rebuilds rather than stopping early)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("dagster_home", "*.lock"))
    return target


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
