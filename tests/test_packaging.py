"""A regular (non-editable) install builds a warehouse: the wheel carries the dbt project and its
seeds (setup.py) and siyu.settings finds them there, away from any source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from siyu.simulator import simulate
from tests.harness import with_installed_dbt

REPO = Path(__file__).resolve().parents[1]


# what a source checkout holds besides the sources: environments, outputs, caches
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "data", "target", "logs", "build", "dist", "__pycache__",
                                     "*.egg-info", ".pytest_cache", ".ruff_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # pip builds in the source folder (setuptools' build/); a copy keeps the other tests' dbt runs,
    # which write into the checkout meanwhile, out of the build
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(out)],
                            capture_output=True, text=True, cwd=out)
    assert result.returncode == 0, result.stderr[-3000:]
    return next(out.glob("siyu_warehouse-*.whl"))


def test_the_wheel_holds_the_whole_dbt_project_and_no_build_output(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"siyu/_project/{p.relative_to(REPO).as_posix()}"
                for folder in ("dbt_project/models", "dbt_project/macros", "dbt_project/tests", "seeds", "queries")
                for p in (REPO / folder).rglob("*") if p.is_file() and p.suffix in (".sql", ".yml", ".csv", ".md")}
    expected |= {"siyu/_project/dbt_project/dbt_project.yml", "siyu/_project/dbt_project/profiles.yml",
                 "data_quality/docs_static/jquery-3.7.1/jquery.min.js"}
    assert expected - names == set()
    assert not [n for n in names if "/target/" in n or "/logs/" in n]


def test_an_installed_wheel_builds_a_warehouse_outside_the_source_tree(wheel: Path, tmp_path: Path):
    installed = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(installed),
                             str(wheel)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    landing = tmp_path / "landing"
    simulate(landing, members=60, days=4, seed=7, progress=False)
    work = tmp_path / "elsewhere"  # no source tree anywhere above the working folder
    work.mkdir()
    # the installed packages come first; the test's own venv provides the dependencies (and dbt)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "SIYU_LANDING_DIR", "SIYU_WAREHOUSE")}
    env.update({"PYTHONPATH": str(installed), "SIYU_DEMO": "1", "SIYU_BUILD_DOCS": "0"})
    env = with_installed_dbt(env)  # dbt must import the installed siyu (its profile's plugin), as users' does
    where = subprocess.run([sys.executable, "-c", "import siyu.settings as s; print(s.__file__); print(s.DBT_PROJECT_DIR)"],
                           capture_output=True, text=True, env=env, cwd=work)
    module, project = where.stdout.split()
    assert module.startswith(str(installed)) and project == str(installed / "siyu" / "_project" / "dbt_project")
    built = subprocess.run([sys.executable, "-m", "siyu.cli", "build", "--landing", str(landing),
                            "--warehouse", str(work / "w.duckdb")], capture_output=True, text=True, env=env, cwd=work)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    con = duckdb.connect(str(work / "w.duckdb"), read_only=True)
    try:
        members = con.execute("select count(*) from marts.dim_member").fetchone()[0]
        channels = con.execute("select count(*) from marts.channel_performance").fetchone()[0]
    finally:
        con.close()
    assert members > 0 and channels > 0  # seeds (channels) and models came from the installed project
    assert (installed / "siyu" / "_project" / "dbt_project" / "target").is_dir()
