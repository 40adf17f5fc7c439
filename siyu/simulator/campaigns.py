"""Campaigns, their creatives (touchpoints), stores and staff, plus daily campaign costs.

Campaigns run back to back per acquisition channel so that "which campaign was running on
this channel that day" is a table lookup, which keeps person generation vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import CHANNEL_CODE, Calendar

# Acquisition channels: (channel, share of acquisitions, campaign code, creative prefix, daily budget ¥).
ACQ_CHANNELS = (
    ("douyin_kol", 0.16, "dy", "dyv", 5200.0),
    ("xiaohongshu_kol", 0.16, "xhs", "note", 3200.0),
    ("ads", 0.14, "ads", "ad", 7800.0),
    ("video_channel", 0.08, "sph", "sph", 1800.0),
    ("live", 0.08, "live", "live", 4100.0),
    ("store", 0.14, "store", "store", 600.0),
    ("sms", 0.04, "sms", "sms", 300.0),
    ("wecom_moments", 0.06, "mom", "mom", 200.0),
    ("oa_subscription", 0.06, "oa", "art", 350.0),
)
THEMES = ("sofa", "bed", "wardrobe", "dining", "mattress", "reno", "newyear", "member")
CITIES = ("sh", "bj", "gz", "sz", "hz", "cd", "wh", "nj", "xa", "cq")


@dataclass(frozen=True)
class Catalog:
    """Campaigns (one per channel and period), their lookup by (channel, day), stores, staff."""

    campaigns: pd.DataFrame      # campaign_id, channel, first_day, last_day, budget
    camp_at: np.ndarray          # [acq channel index, day] -> campaign row
    creatives: np.ndarray        # [campaign row, 3] creative (touchpoint) ids
    creative_store: np.ndarray   # [campaign row, 3] store index of a store creative, else -1
    stores: np.ndarray           # store ids
    staff: np.ndarray            # staff userids (never people)
    staff_store: np.ndarray      # store index of a store guide, -1 for online consultants


def make_catalog(rng: np.random.Generator, cal: Calendar, members: int) -> Catalog:
    rows = []
    for ci, (channel, _, code, _, budget) in enumerate(ACQ_CHANNELS):
        day = 0
        while day < cal.days:
            length = int(rng.integers(14, 36))
            theme = THEMES[int(rng.integers(len(THEMES)))]
            month = cal.date(day).strftime("%y%m")
            rows.append((f"cmp-{month}-{code}-{theme}", channel, ci, day, min(day + length, cal.days) - 1, budget))
            day += length
    campaigns = pd.DataFrame(rows, columns=["campaign_id", "channel", "acq", "first_day", "last_day", "budget"])
    # Two campaigns of a channel in one month with the same theme would share an id: suffix them.
    dup = campaigns.groupby("campaign_id").cumcount()
    campaigns.loc[dup > 0, "campaign_id"] += "-" + (dup[dup > 0] + 1).astype(str)
    camp_at = np.full((len(ACQ_CHANNELS), cal.days), -1, dtype=np.int64)
    lengths = (campaigns.last_day - campaigns.first_day + 1).to_numpy()
    rep = np.repeat(np.arange(len(campaigns)), lengths)
    days = np.arange(len(rep)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(campaigns.first_day.to_numpy(), lengths)
    camp_at[campaigns.acq.to_numpy()[rep], days] = rep
    prefix = np.array([c[3] for c in ACQ_CHANNELS], dtype=object)[campaigns.acq.to_numpy()]
    numbers = rng.integers(1000, 99999, size=(len(campaigns), 3)).astype(str)
    creatives = (prefix[:, None] + "-" + numbers).astype(object)
    n_stores = int(np.clip(members // 4000, 3, 30))
    stores = np.array([f"store-{CITIES[i % len(CITIES)]}-{i // len(CITIES) + 1:02d}" for i in range(n_stores)], dtype=object)
    # Store creatives are the store itself: a store visit is the touchpoint.
    is_store = campaigns.channel.to_numpy() == "store"
    creative_store = np.full(creatives.shape, -1, dtype=np.int64)
    creative_store[is_store] = rng.integers(0, n_stores, size=(int(is_store.sum()), 3))
    creatives[is_store] = stores[creative_store[is_store]]
    n_staff = max(6, members // 400)
    n_guides = max(n_stores, n_staff * 2 // 3)
    staff = np.array([f"guide_{i:03d}" for i in range(n_guides)] + [f"cs_{i:03d}" for i in range(n_staff - n_guides)], dtype=object)
    staff_store = np.concatenate([np.arange(n_guides) % n_stores, np.full(max(0, n_staff - n_guides), -1)])
    return Catalog(campaigns, camp_at, creatives, creative_store, stores, staff, staff_store.astype(np.int64))


def acquisition_channel_codes() -> np.ndarray:
    """CHANNEL_CODE of each acquisition channel, aligned with ACQ_CHANNELS."""
    return np.array([CHANNEL_CODE[c[0]] for c in ACQ_CHANNELS])


def campaign_costs(rng: np.random.Generator, cat: Catalog) -> pd.DataFrame:
    """One row per campaign per running day: `dt, campaign_id, channel, cost` (yuan, 2 dp)."""
    c = cat.campaigns
    lengths = (c.last_day - c.first_day + 1).to_numpy()
    rep = np.repeat(np.arange(len(c)), lengths)
    day = np.arange(len(rep)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + c.first_day.to_numpy()[rep]
    cost = np.round(c.budget.to_numpy()[rep] * rng.lognormal(0.0, 0.35, size=len(rep)), 2)
    out = pd.DataFrame({"day": day, "campaign_id": c.campaign_id.to_numpy()[rep], "channel": c.channel.to_numpy()[rep], "cost": cost})
    return out.sort_values(["day", "campaign_id"], kind="stable").reset_index(drop=True)
