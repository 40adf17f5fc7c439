"""Landing data is partitioned by business day; raw assets share this definition.

The range starts at the first day of the landing folder (SIYU_LANDING_DIR; 2020-01-01 while it
is empty) and ends tomorrow; SIYU_PARTITIONS_START and SIYU_PARTITIONS_END_OFFSET override it,
and `siyu build` sets them when a landing folder holds future-dated days. Read when the
definitions are built (dagster_project.definitions), never at import.
"""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

from siyu.landing.discovery import first_day
from siyu.settings import Settings

DEFAULT_START = "2020-01-01"


def business_timezone() -> str:
    return os.environ.get("SIYU_BUSINESS_TIMEZONE", "Asia/Shanghai")


def partitions_start(settings: Settings) -> str:
    """SIYU_PARTITIONS_START, else the landing folder's first day: the UI then shows the days that
    can hold data, not years of empty partitions."""
    if os.environ.get("SIYU_PARTITIONS_START"):
        return os.environ["SIYU_PARTITIONS_START"]
    first = first_day(settings.landing_dir)
    return first.isoformat() if first else DEFAULT_START


def daily_partitions(settings: Settings) -> DailyPartitionsDefinition:
    return DailyPartitionsDefinition(
        start_date=partitions_start(settings),
        timezone=business_timezone(),
        # today's partition exists: landing files arrive during the day
        end_offset=int(os.environ.get("SIYU_PARTITIONS_END_OFFSET", "1")),
    )
