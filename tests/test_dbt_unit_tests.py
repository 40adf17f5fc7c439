"""dbt's unit tests (`unit_tests:` in the models' YAML: fixtures in, expected rows out) — e.g. the
incremental branch of int_member_layers_daily. Production builds leave them out
(`--exclude-resource-type unit_test`): an incremental model's unit test reads its table's columns,
which a first build has not made yet. Here they run against a copy of the shared simulated build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from siyu.settings import dbt_executable
from tests.harness import REPO, siyu_env


def test_dbt_unit_tests_pass(simulated, tmp_path: Path):
    _, published = simulated
    work_db = published.with_name("warehouse.work.duckdb")
    assert work_db.exists(), sorted(p.name for p in published.parent.iterdir())
    db = tmp_path / "warehouse.work.duckdb"  # a copy: dbt writes its fixtures' temporary tables
    shutil.copy(work_db, db)
    env = siyu_env(tmp_path) | {"SIYU_WORK_DB": str(db), "DBT_PROFILES_DIR": str(REPO / "dbt_project")}
    target = tmp_path / "target"
    result = subprocess.run([dbt_executable(), "test", "--select", "test_type:unit", "--project-dir", str(REPO / "dbt_project"),
                             "--target-path", str(target), "--log-path", str(tmp_path / "logs")],
                            cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_tests = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    assert unit_tests == {"int_member_layers_daily_computes_only_what_it_lacks": "pass"}
