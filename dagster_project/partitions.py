"""Landing data is partitioned by business day; raw assets share this definition.

The range starts at the first day of the landing folder (SIYU_LANDING_DIR; 2020-01-01 while it
is empty) and ends tomorrow; SIYU_PARTITIONS_START and SIYU_PARTITIONS_END_OFFSET override it,
and `siyu build` sets them when a landing folder holds future-dated days.
"""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

from siyu.landing.discovery import first_day
from siyu.settings import Settings

BUSINESS_TIMEZONE = os.environ.get("SIYU_BUSINESS_TIMEZONE", "Asia/Shanghai")
DEFAULT_START = "2020-01-01"


def partitions_start() -> str:
    """SIYU_PARTITIONS_START, else the landing folder's first day: the UI then shows the days that
    can hold data, not years of empty partitions."""
    if os.environ.get("SIYU_PARTITIONS_START"):
        return os.environ["SIYU_PARTITIONS_START"]
    first = first_day(Settings.from_env().landing_dir)
    return first.isoformat() if first else DEFAULT_START


daily_partitions = DailyPartitionsDefinition(
    start_date=partitions_start(),
    timezone=BUSINESS_TIMEZONE,
    # today's partition exists: landing files arrive during the day
    end_offset=int(os.environ.get("SIYU_PARTITIONS_END_OFFSET", "1")),
)
