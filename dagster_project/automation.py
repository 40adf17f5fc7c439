"""The build job, its daily schedule, and the sensor that notices new landing partitions."""

from __future__ import annotations

import json
import os
from datetime import date
from typing import TYPE_CHECKING

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    PartitionsDefinition,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
    sensor,
)

from siyu.landing.discovery import scan
from siyu.settings import Settings

if TYPE_CHECKING:  # dagster exports it only under its private path
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition


def build_job(partitions: PartitionsDefinition, with_docs: bool | None = None) -> UnresolvedAssetJobDefinition:
    """The one job: raw → dbt → checks → publish → docs and dashboard. SIYU_BUILD_DOCS=0 leaves the
    dbt docs site out (it costs ~7 s a run); on by default."""
    if with_docs is None:
        with_docs = os.environ.get("SIYU_BUILD_DOCS", "1") != "0"
    selection = AssetSelection.all() if with_docs else AssetSelection.all() - AssetSelection.groups("docs")
    return define_asset_job(
        name="siyu_build",
        selection=selection,
        partitions_def=partitions,
        # One DuckDB file has one writer: steps run one after another in the run's process, so runs
        # launched from the UI, the schedule or the sensor never collide on the working database.
        executor_def=in_process_executor,
        description="Load landing partitions into raw, run dbt build (models + tests), run the quality suites, publish.",
    )


def build_daily_schedule(job: UnresolvedAssetJobDefinition):
    return build_schedule_from_partitioned_job(
        job, hour_of_day=6, minute_of_hour=0, default_status=DefaultScheduleStatus.STOPPED,
        description="Every morning at 06:00 business time: yesterday's partition end to end.",
    )


def landing_run_request(cursor: str | None) -> tuple[RunRequest | SkipReason, str | None]:
    """The run new or changed landing day folders call for, and the sensor's next cursor.
    File stats, not contents: the sensor must stay cheap, and the run it starts compares contents
    (a `touch` starts a run that finds nothing changed and loads nothing)."""
    current = scan(Settings.from_env().landing_dir).stat_signatures()
    previous = json.loads(cursor) if cursor else {}
    changed = sorted({key.split("/")[1] for key, fp in current.items() if previous.get(key) != fp})
    if not changed:
        return SkipReason("no new or changed landing partitions"), cursor
    start, end = date.fromisoformat(changed[0]), date.fromisoformat(changed[-1])
    return RunRequest(
        run_key=f"landing-{start}-{end}-{len(current)}",
        tags={"dagster/asset_partition_range_start": start.isoformat(),
              "dagster/asset_partition_range_end": end.isoformat()},
    ), json.dumps(current)


def build_landing_sensor(job: UnresolvedAssetJobDefinition):
    @sensor(job=job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.STOPPED,
            description="Watches SIYU_LANDING_DIR; new or changed day folders start one run over their date range.")
    def landing_sensor(context: SensorEvaluationContext):
        request, cursor = landing_run_request(context.cursor)
        if cursor != context.cursor:
            context.update_cursor(cursor)
        return request

    return landing_sensor
