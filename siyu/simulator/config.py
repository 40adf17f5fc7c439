"""Constants and the calendar shared by every generator.

Enumerations come from `siyu.landing.schema` so the simulator can never emit a
value the loader does not know (except the deliberately malformed records).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from siyu.landing.schema import CHANNELS, TRACKING_EVENTS

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MIN_MS = 60_000
# Asia/Shanghai has had no DST since 1991: a fixed +08:00 offset is exact and vectorises.
TZ_OFFSET_MS = 8 * HOUR_MS

CHANNEL_CODE = {c: i for i, c in enumerate(CHANNELS)}
EVENT_CODE = {e: i for i, e in enumerate(TRACKING_EVENTS)}

# App ids of the brand's WeChat properties; the warehouse's appid seed must map them.
MP_APPID = "wx8a3f2c71d95e40b6"   # mini-program
SUB_APPID = "wx1c7e9d4b62a8f035"  # subscription account (订阅号)
SVC_APPID = "wx5d2b8e0f37c9a614"  # service account (服务号)
APPIDS = {MP_APPID: "mini_program", SUB_APPID: "oa_subscription", SVC_APPID: "oa_service"}
# Index 0 = no app; used as the `app` code on generated events.
APP_LIST = ("", MP_APPID, SUB_APPID, SVC_APPID)
APP_MP, APP_SUB, APP_SVC = 1, 2, 3

# push_delivered -> push_opened probability per pushing channel (contracts §1 orders of magnitude).
OPEN_RATES = {
    "oa_subscription": 0.01,
    "oa_service": 0.10,
    "wecom_moments": 0.85,
    "wecom_1v1": 0.30,
    "wecom_group": 0.20,
}
# Of the opens, the share followed by a click-through (article_read for OA, link_click else).
CLICK_RATES = {
    "oa_subscription": 0.70,
    "oa_service": 0.60,
    "wecom_moments": 0.06,
    "wecom_1v1": 0.20,
    "wecom_group": 0.35,
}
# Share of event/records turned into malformed extra copies, and of tracking events
# written late (1-3 days after their business date) or re-sent as exact duplicates.
MALFORMED_RATE = 0.002
LATE_RATE = 0.015
DUPLICATE_RATE = 0.001
FUNNEL_WINDOW_DAYS = 30

# Shared identifiers that must never merge people (contracts §4): a test account mobile and a
# store landline typed into the buyer phone field.
TEST_PHONE = "13800138000"
STORE_LANDLINE = "021-6888 1234"

# Relative activity by hour of day in Asia/Shanghai (commute, lunch, evening peak).
HOUR_WEIGHTS = np.array(
    [2, 1, 0.5, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 6, 6, 7, 6, 5, 5, 5, 5, 6, 8, 10, 11, 9, 5],
    dtype=float,
)


@dataclass(frozen=True)
class Calendar:
    """The simulated window: business days 0..days-1 starting at `start` (Asia/Shanghai)."""

    start: date
    days: int

    @property
    def t0(self) -> int:
        """Epoch ms of 00:00 business time on day 0."""
        return (self.start - date(1970, 1, 1)).days * DAY_MS - TZ_OFFSET_MS

    @property
    def t_end(self) -> int:
        """Epoch ms just after the last business day; nothing is generated at or after it."""
        return self.t0 + self.days * DAY_MS

    def day_of(self, t: np.ndarray) -> np.ndarray:
        """Business-day index of epoch-ms timestamps."""
        return (np.asarray(t, dtype=np.int64) - self.t0) // DAY_MS

    def day_start(self, d: np.ndarray) -> np.ndarray:
        """Epoch ms of 00:00 business time of day index `d`."""
        return self.t0 + np.asarray(d, dtype=np.int64) * DAY_MS

    def date(self, d: int) -> date:
        return self.start + timedelta(days=int(d))

    def weekday(self, d: np.ndarray) -> np.ndarray:
        """0 = Monday, like `date.weekday()`."""
        return (self.start.weekday() + np.asarray(d)) % 7


def time_of_day_ms(rng: np.random.Generator, n: int) -> np.ndarray:
    """Milliseconds after local midnight, following the hourly activity curve."""
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    return hours * HOUR_MS + rng.integers(0, HOUR_MS, size=n)

