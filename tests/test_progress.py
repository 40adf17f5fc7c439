"""`siyu build`'s terminal status line (siyu/progress.py, dagster_project/loggers.py)."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from siyu import progress
from siyu.simulator import simulate

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("line, status", [
    ("1 of 296 START sql table model staging.stg_campaigns__costs .......... [RUN]", "dbt  1/296 · stg_campaigns__costs"),
    ("12 of 296 OK created sql incremental model staging.stg_tracking__events ... [OK in 2.00s]",
     "dbt  12/296 · stg_tracking__events"),
    ("241 of 296 START test unique_dim_member_member_id ........ [RUN]", "dbt  241/296 · unique_dim_member_member_id"),
    ("242 of 296 PASS unique_dim_member_member_id .............. [PASS in 0.30s]", "dbt  242/296 · unique_dim_member_member_id"),
    ("281 of 296 NO-OP exposure q_one_to_one_care ..... [NO-OP in 0.00s]", "dbt  281/296 · q_one_to_one_care"),
    ("Finished running 10 exposures, 6 incremental models in 35.34s.", None),
    ("Concurrency: 4 threads (target='duckdb')", None),
])
def test_dbt_log_lines_become_node_counts(line: str, status: str | None):
    assert progress.dbt_node_status(line) == status


def test_the_log_gets_everything_and_the_status_line_follows_dbt(monkeypatch):
    log, terminal = io.StringIO(), io.StringIO()
    tee = progress.DbtLogTee(log)
    tee.write("no status line yet: 1 of 9 START sql table model staging.a [RUN]\n")
    assert terminal.getvalue() == ""
    progress.activate(terminal)
    try:
        tee.write("3 of 9 START sql table model staging.stg_b [RUN]\n4 of 9 OK created sql ")
        tee.write("table model staging.stg_b [OK]\nplain text\n")
        progress.ACTIVE.note("dbt  build done in 1.0 s")
    finally:
        progress.deactivate()
    assert log.getvalue().count("\n") == 4 and "plain text" in log.getvalue()
    shown = [part.rsplit("] ", 1)[-1].replace("\x1b[K", "") for part in terminal.getvalue().replace("\n", "\r").split("\r")]
    assert [s for s in shown if s] == ["dbt  3/9 · stg_b", "dbt  4/9 · stg_b", "dbt  build done in 1.0 s"]


def test_no_status_line_without_a_terminal(monkeypatch):
    monkeypatch.delenv("SIYU_PROGRESS", raising=False)
    assert not progress.wanted(io.StringIO())
    monkeypatch.setenv("SIYU_PROGRESS", "1")
    assert progress.wanted(io.StringIO())
    monkeypatch.setenv("SIYU_PROGRESS", "0")
    assert not progress.wanted(sys.stderr)


def test_a_build_on_a_terminal_shows_its_stages_and_dbts_nodes(tmp_path: Path):
    landing = tmp_path / "landing"
    simulate(landing, members=60, days=3, seed=9, progress=False)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "SIYU_PROGRESS")}
    env.update({"SIYU_DEMO": "1", "SIYU_BUILD_DOCS": "0", "SIYU_EPHEMERAL_RUNS": "1", "COLUMNS": "160"})
    leader, follower = pty.openpty()  # stderr is a terminal, as in an interactive shell
    build = subprocess.Popen([sys.executable, "-m", "siyu.cli", "build", "--landing", str(landing),
                              "--warehouse", str(tmp_path / "w.duckdb")],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif build.poll() is not None:
            break
    stdout = build.communicate(timeout=600)[0]
    os.close(leader)
    text = seen.decode(errors="replace")
    assert build.returncode == 0, text[-3000:] + stdout[-3000:]
    for stage in ("raw  tracking done in", "dbt  build (models and tests) done in", "publish done in"):
        assert stage in text, text[-3000:]
    assert re.search(r"dbt  \d+/\d+ · \w+", text)  # dbt's progress: "dbt  12/296 · stg_tracking__events"
    assert "\r" in text  # one status line rewritten in place
    assert "warehouse published" in stdout  # the summary is unchanged, on stdout
