"""Dagster definitions: raw assets, dbt assets, publishing, checks, resources and automation.

Nothing happens at import: `dagster dev -m dagster_project.definitions` finds the `@definitions`
function and calls it when it loads the code location; `siyu build` calls `build_definitions`
with its settings. Building reads the environment (paths, partition range), makes sure the PII
salt exists and parses the dbt project when its manifest is stale.
"""

from __future__ import annotations

from dagster import Definitions, definitions

from siyu.pii import ensure_salt
from siyu.settings import DBT_PROJECT_DIR, Settings, dbt_executable

from .assets.dashboard import dashboard
from .assets.dbt import build_dbt_assets, dbt_project, mart_keys
from .assets.docs import build_dbt_docs
from .assets.publish import build_published_warehouse
from .assets.raw import build_raw_assets
from .automation import build_daily_schedule, build_job, build_landing_sensor
from .checks.quality import mart_quality_checks
from .loggers import LOGGERS
from .partitions import daily_partitions
from .resources import SiyuDbtCliResource, WarehouseResource, dbt_global_flags


def build_definitions(settings: Settings | None = None, reload_unchanged: bool = True) -> Definitions:
    settings = settings or Settings.from_env()
    settings.export()  # dbt, started by dagster-dbt, reads the paths from the environment
    ensure_salt()  # before any dbt process hashes a phone
    partitions = daily_partitions(settings)
    dbt_models = build_dbt_assets(DBT_PROJECT_DIR)
    marts = mart_keys(dbt_models)
    job = build_job(partitions)
    return Definitions(
        assets=[*build_raw_assets(partitions), dbt_models, build_published_warehouse(marts), build_dbt_docs(marts),
                dashboard],
        asset_checks=[mart_quality_checks],
        jobs=[job],
        schedules=[build_daily_schedule(job)],
        sensors=[build_landing_sensor(job)],
        loggers=LOGGERS,
        resources={
            "warehouse": WarehouseResource.from_settings(settings, reload_unchanged=reload_unchanged),
            "dbt": SiyuDbtCliResource(project_dir=dbt_project(DBT_PROJECT_DIR), dbt_executable=dbt_executable(),
                                      global_config_flags=dbt_global_flags()),
        },
    )


@definitions
def defs() -> Definitions:
    """The code location `dagster dev` / `dagster-webserver` load, from the environment."""
    return build_definitions()
