"""Dagster definitions: raw assets, dbt assets, publishing, checks, resources and automation."""

from __future__ import annotations

from dagster import Definitions
from dagster_dbt import DbtCliResource

from siyu.pii import ensure_salt
from siyu.settings import Settings, dbt_executable

from .assets.dashboard import dashboard
from .assets.dbt import dbt_models, dbt_project
from .assets.docs import dbt_docs
from .assets.publish import published_warehouse
from .assets.raw import raw_assets
from .automation import build_job, daily_schedule, landing_sensor
from .checks.quality import mart_quality_checks
from .loggers import LOGGERS
from .resources import WarehouseResource


def build_definitions(settings: Settings | None = None, reload_unchanged: bool = True) -> Definitions:
    settings = settings or Settings.from_env()
    settings.export()
    ensure_salt()  # before any dbt process hashes a phone
    return Definitions(
        assets=[*raw_assets, dbt_models, published_warehouse, dbt_docs, dashboard],
        asset_checks=[mart_quality_checks],
        jobs=[build_job],
        schedules=[daily_schedule],
        sensors=[landing_sensor],
        loggers=LOGGERS,
        resources={
            "warehouse": WarehouseResource.from_settings(settings, reload_unchanged=reload_unchanged),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
    )


defs = build_definitions()
