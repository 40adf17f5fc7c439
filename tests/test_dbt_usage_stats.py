"""dbt sends nothing about a brand's pipeline to dbt Labs: the project's flags switch off its anonymous
usage events (dbt's default sends one per invocation and per node whenever the network allows)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from siyu.settings import DBT_PROJECT_DIR, dbt_executable


def test_dbt_sends_no_usage_events(tmp_path: Path):
    env = dict(os.environ, SIYU_DEMO="1", SIYU_WORK_DB=str(tmp_path / "w.work.duckdb"))
    env.pop("DO_NOT_TRACK", None)
    env.pop("DBT_SEND_ANONYMOUS_USAGE_STATS", None)
    result = subprocess.run(
        [dbt_executable(), "--log-level-file", "debug", "--log-path", str(tmp_path), "debug",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=tmp_path, env=env, capture_output=True, text=True)
    log = (tmp_path / "dbt.log").read_text(encoding="utf-8")
    assert "'send_anonymous_usage_stats': 'False'" in log, result.stdout[-2000:]
    assert "Sending event" not in log
