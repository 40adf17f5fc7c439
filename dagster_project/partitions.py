"""Landing data is partitioned by business day; raw assets share this definition."""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

BUSINESS_TIMEZONE = os.environ.get("SIYU_BUSINESS_TIMEZONE", "Asia/Shanghai")

daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get("SIYU_PARTITIONS_START", "2020-01-01"),
    timezone=BUSINESS_TIMEZONE,
    end_offset=1,  # today's partition exists: landing files arrive during the day
)
