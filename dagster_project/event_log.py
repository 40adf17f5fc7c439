"""Dagster's SQLite event log, made fast enough for runs with thousands of events.

Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy engine for every statement batch (so every
statement is compiled anew) and commits with SQLite's defaults (rollback journal, a full fsync per
commit): 25–60 ms per event on our 2-core machines, about a minute of a 1,500-event build at the M
scale. This subclass keeps one engine per database file (a bounded cache; its connections are not
closed after every statement batch but kept, one per thread: closing SQLite's last connection to a
WAL database checkpoints it; a forked child drops the parent's) and opens SQLite in WAL mode with
`synchronous=NORMAL`: a commit no longer waits for the disk, the log survives a crashed process
(only a power loss can cost the last events of a run), and readers such as the webserver never
block the writer. The files stay ordinary Dagster event-log databases: the stock class reads them.

A planned check of a partitioned asset becomes one row per partition in the index; the stock storage
serializes the whole planned event (its partition subset included) once per row and compiles one
multi-row INSERT. The raw layer's checks cover every landing day, so the first build of 90 days spent
6–9 s there before its run started. Here the event is serialized once and the rows go through one
executemany — the same rows.

Selected in `$DAGSTER_HOME/dagster.yaml` (`dagster_project.instance.INSTANCE_YAML`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import create_db_conn_string
from dagster_shared.serdes import serialize_value
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import SingletonThreadPool

ENGINES_KEPT = 32  # one per run database read or written recently, plus the index
BUSY_TIMEOUT_SECONDS = 30


def _set_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("pragma journal_mode=wal")
    cursor.execute("pragma synchronous=normal")
    cursor.close()


class FastSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one cached engine per shard and WAL / synchronous=NORMAL."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)
        os.register_at_fork(after_in_child=self._forget_inherited_connections)

    def _forget_inherited_connections(self) -> None:
        # the parent's SQLite connections must not be used (nor closed) by a forked child
        for engine in self._engines.values():
            engine.dispose(close=False)
        self._engines.clear()

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False,
                                  description="Default: $DAGSTER_HOME/history/runs, where Dagster's own SQLite storage keeps them")}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> FastSqliteEventLogStorage:  # ty: ignore[invalid-method-override]
        base_dir = config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        return cls(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(create_db_conn_string(self._base_dir, shard), poolclass=SingletonThreadPool,
                                   connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
            event.listen(engine, "connect", _set_pragmas)
        self._engines[shard] = engine  # most recently used last
        while len(self._engines) > ENGINES_KEPT:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _store_asset_check_evaluation_planned(self, entry: EventLogEntry, event_id: int | None) -> None:
        # the stock method's rows (dagster 1.13 sql_event_log.py), with the event serialized once
        planned = entry.get_dagster_event().event_specific_data
        partition_keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        row = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": entry.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(entry),
            "evaluation_event_timestamp": self._event_insert_timestamp(entry),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), [{**row, "partition": key} for key in partition_keys])
