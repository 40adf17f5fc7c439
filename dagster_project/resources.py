"""Dagster resources: the warehouse files and how raw loads treat unchanged partitions; dbt."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Iterator

import duckdb
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource
from packaging import version

from siyu.settings import Settings


class WarehouseResource(ConfigurableResource):
    """The landing folder, the private working database, and the file readers get."""

    landing_dir: str
    work_db: str
    published_db: str
    quality_docs_dir: str
    # A materialization asked for in the UI reloads its partitions; `siyu build` sets this to
    # False so that re-running it only processes new or changed landing partitions.
    reload_unchanged: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, reload_unchanged: bool = True) -> "WarehouseResource":
        return cls(landing_dir=str(settings.landing_dir), work_db=str(settings.work_db),
                   published_db=str(settings.warehouse), quality_docs_dir=str(settings.quality_docs_dir),
                   reload_unchanged=reload_unchanged)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection: DuckDB allows one writer process, and dbt runs in its own."""
        Path(self.work_db).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.work_db, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


def dbt_global_flags() -> list[str]:
    """No dbt file log (`dbt.log` in the run's target folder) unless DBT_LOG_LEVEL_FILE asks for one:
    dbt's node lines reach `logs/siyu-build.log` (and a UI run's compute log) through its standard
    output anyway, and the file log's locked handler held dbt's threads back — at `debug`, dbt's
    default, every SQL statement is logged (≈ 20 % of a small build's dbt time); even at `info` a
    build of the landing example took 21.6 s against 18.9 s without it (7 runs each). The compiled
    SQL stays in the target folder; `DBT_LOG_LEVEL_FILE=debug siyu build` brings the statement log back."""
    return ["--log-level-file", os.environ.get("DBT_LOG_LEVEL_FILE", "none")]


class SiyuDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, without the `dbt --version` subprocess it starts before every
    invocation (≈ 4 s: a whole dbt import) only to learn whether dbt-core or the Fusion engine
    runs: when the executable is the dbt beside this interpreter (or SIYU_DBT_EXECUTABLE, a command
    that runs it: siyu.settings.dbt_executable), its version is the installed dbt-core's."""

    @cached_property
    def _cli_version(self) -> version.Version:
        installed = [Path(sys.executable).parent / "dbt"]
        if os.environ.get("SIYU_DBT_EXECUTABLE"):
            installed.append(Path(os.environ["SIYU_DBT_EXECUTABLE"]))
        if Path(self.dbt_executable).resolve() in {path.resolve() for path in installed}:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001 (dagster-dbt's signature)
        """No dbt adapter inside the Dagster process: dagster-dbt builds one (≈ 3 s: dbt's profile,
        project and adapter imports) only for `fetch_row_counts` / `fetch_column_metadata`, which we
        do not use — the dbt asset reads row counts itself, after dbt has released the file."""
        return None
