"""The suite's dbt command (tests/dbt_client.py → tests/dbt_forkserver.py) behaves as the installed
`dbt`: the same arguments, working directory and environment, output on the caller's own streams,
the same exit code. Every build of the suite relies on it (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def _dbt(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    executable = os.environ.get("SIYU_DBT_EXECUTABLE")
    if not executable or not os.environ.get("SIYU_TEST_DBT_SERVER"):
        pytest.skip("the suite runs the installed dbt (SIYU_TEST_DBT_FORKSERVER=0)")
    return subprocess.run([executable, *args], cwd=cwd, env=dict(os.environ, **env), capture_output=True, text=True,
                          timeout=120)


def test_arguments_environment_and_output_reach_the_forked_dbt(tmp_path):
    result = _dbt("debug", "--config-dir", cwd=tmp_path, DBT_PROFILES_DIR=str(tmp_path / "profiles-here"))
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "profiles-here") in result.stdout  # this call's environment, not the server's


def test_a_failing_dbt_command_gives_dbts_exit_code_and_error(tmp_path):
    result = _dbt("no-such-command", cwd=tmp_path)
    assert result.returncode == 2
    assert "No such command 'no-such-command'" in result.stderr
    assert result.stderr.startswith("Usage: dbt ")  # named as the installed command names itself


def test_the_working_directory_is_the_callers(tmp_path):
    result = _dbt("parse", cwd=tmp_path, DBT_PROFILES_DIR=str(tmp_path))  # the project is sought in the working directory
    assert result.returncode == 2
    assert f"No dbt_project.yml found at expected path {tmp_path / 'dbt_project.yml'}" in result.stdout
