"""The Dagster instance siyu writes (dagster_project/instance.py) and its fast SQLite event log
(dagster_project/event_log.py): same files and rows as Dagster's own storage, written faster."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance, asset, materialize
from dagster._core.storage.event_log import SqliteEventLogStorage

from dagster_project.event_log import FastSqliteEventLogStorage
from dagster_project.instance import INSTANCE_YAML, ensure_instance_yaml


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    ensure_instance_yaml(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@asset
def numbers() -> int:
    return 42


def test_the_instance_uses_the_fast_event_log_in_dagsters_usual_place(dagster_home: Path):
    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, FastSqliteEventLogStorage)
        result = materialize([numbers], instance=instance)
        assert result.success
    run_db = dagster_home / "history" / "runs" / f"{result.run_id}.db"
    assert run_db.exists() and (dagster_home / "history" / "runs" / "index.db").exists()
    with sqlite3.connect(run_db) as con:
        assert con.execute("pragma journal_mode").fetchone() == ("wal",)


def test_dagsters_own_storage_reads_what_it_wrote(dagster_home: Path):
    with DagsterInstance.get() as instance:
        result = materialize([numbers], instance=instance)
        written = [e.dagster_event_type for e in instance.all_logs(result.run_id)]
    stock = SqliteEventLogStorage(str(dagster_home / "history" / "runs"))
    assert [e.dagster_event_type for e in stock.get_logs_for_run(result.run_id)] == written
    latest = stock.get_latest_materialization_events([AssetKey("numbers")])[AssetKey("numbers")]
    assert latest is not None and latest.run_id == result.run_id


def test_events_are_written_through_one_engine_per_file_in_wal_mode(tmp_path: Path):
    """What makes the storage fast (a micro-benchmark of 100 events: 4.5–9 ms an event against
    35–50 ms for the stock one): one engine per database file instead of one per write, WAL and
    synchronous=NORMAL instead of a full fsync per commit. Checked as settings, not as a timing,
    which flaked on a machine busy with disk writes."""
    storage = FastSqliteEventLogStorage(str(tmp_path / "fast"))
    for i in range(40):
        storage.store_event(_materialization("run-1", i))
    assert len(storage.get_logs_for_run("run-1")) == 40
    assert storage._engine("run-1") is storage._engine("run-1")
    with storage._connect("run-1") as conn:
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma synchronous").scalar() == 1  # NORMAL


def test_a_forked_child_opens_its_own_connections(tmp_path: Path):
    storage = FastSqliteEventLogStorage(str(tmp_path / "runs"))
    storage.store_event(_materialization("parent", 0))
    pid = os.fork()
    if pid == 0:  # the child writes through fresh connections, never the parent's
        try:
            storage.store_event(_materialization("child", 1))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    storage.store_event(_materialization("parent", 2))
    assert len(storage.get_logs_for_run("parent")) == 2 and len(storage.get_logs_for_run("child")) == 1


def test_a_dagster_yaml_the_user_wrote_is_left_alone(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    ensure_instance_yaml(home)
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"
    # what earlier versions of siyu wrote is upgraded
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    ensure_instance_yaml(home)
    assert (home / "dagster.yaml").read_text() == INSTANCE_YAML


def _materialization(run_id: str, i: int):
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry

    event = DagsterEvent(event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value, job_name="job",
                         event_specific_data=StepMaterializationData(
                             AssetMaterialization(asset_key=AssetKey(["raw", f"t{i % 5}"]), metadata={"rows": i})))
    return EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id, timestamp=time.time(),
                         dagster_event=event)


def test_siyu_build_records_runs_beside_the_warehouse_unless_told_otherwise(tmp_path: Path, monkeypatch):
    from siyu.build import _instance
    from siyu.settings import Settings

    settings = Settings(tmp_path / "landing", tmp_path / "wh" / "siyu.duckdb", tmp_path / "wh" / "siyu.work.duckdb",
                        tmp_path / "wh" / "quality_docs")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("SIYU_EPHEMERAL_RUNS", "1")
    assert _instance(settings).is_ephemeral and "DAGSTER_HOME" not in os.environ
    monkeypatch.delenv("SIYU_EPHEMERAL_RUNS")
    # where the README's `dagster dev` (DAGSTER_HOME=data/warehouse/dagster_home) looks
    with _instance(settings) as instance:
        assert Path(instance.root_directory) == tmp_path / "wh" / "dagster_home"
        assert isinstance(instance.event_log_storage, FastSqliteEventLogStorage)
    assert os.environ["DAGSTER_HOME"] == str(tmp_path / "wh" / "dagster_home")


def _planned_check(run_id: str, days: int):
    from dagster import DailyPartitionsDefinition
    from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationPlanned
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.events.log import EventLogEntry

    partitions = DailyPartitionsDefinition(start_date="2026-08-01")
    subset = partitions.subset_with_partition_keys([f"2026-08-{day:02d}" for day in range(1, days + 1)]).to_serializable_subset()
    event = DagsterEvent(event_type_value=DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED.value, job_name="job",
                         event_specific_data=AssetCheckEvaluationPlanned(asset_key=AssetKey(["raw", "tracking"]), check_name="ge_suite",
                                                                         partitions_subset=subset))
    return EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id, timestamp=time.time(),
                         dagster_event=event)


def test_a_planned_check_of_many_partitions_writes_the_stock_rows(tmp_path: Path):
    """One row per partition, each holding the serialized planned event, as Dagster's own storage writes
    (ours serializes the event once instead of once per partition)."""
    entry = _planned_check("run-1", 31)
    rows = {}
    for name, storage in (("stock", SqliteEventLogStorage(str(tmp_path / "stock"))),
                          ("fast", FastSqliteEventLogStorage(str(tmp_path / "fast")))):
        storage.store_event(entry)
        with sqlite3.connect(tmp_path / name / "index.db") as con:
            rows[name] = con.execute("select asset_key, check_name, partition, run_id, execution_status, "
                                     "evaluation_event, evaluation_event_timestamp from asset_check_executions "
                                     "order by partition").fetchall()
    assert len(rows["fast"]) == 31 and rows["fast"][0][2] == "2026-08-01" and rows["fast"][-1][2] == "2026-08-31"
    assert rows["fast"] == rows["stock"]
