"""Landing data is partitioned by business day; raw assets share this definition.

The range defaults to 2020-01-01 … tomorrow; `siyu build` widens it (through the two
environment variables) when a landing folder holds older or future-dated days.
"""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

BUSINESS_TIMEZONE = os.environ.get("SIYU_BUSINESS_TIMEZONE", "Asia/Shanghai")
DEFAULT_START = "2020-01-01"

daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get("SIYU_PARTITIONS_START", DEFAULT_START),
    timezone=BUSINESS_TIMEZONE,
    # today's partition exists: landing files arrive during the day
    end_offset=int(os.environ.get("SIYU_PARTITIONS_END_OFFSET", "1")),
)
