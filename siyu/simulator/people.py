"""Simulated people: their identifiers and the plan of their journey through the channels.

Each person gets all identifiers up front, but an identifier only "exists" for the
warehouse once a record carrying it is written; the truth is computed from the written
records, never from this plan. Times are epoch ms; -1 means "never".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .campaigns import ACQ_CHANNELS, Catalog
from .config import DAY_MS, HOUR_MS, MIN_MS, TEST_PHONE, Calendar, time_of_day_ms
from .ids import Taken, mobiles, tokens
from .textpool import SURNAMES

NEVER = -1
FISSION_SHARE = 0.08     # people acquired by a member's group invite (裂变)
NON_WECHAT_SHARE = 0.05  # tmall/jd/app shoppers never seen with a WeChat id


def _lognormal_ms(rng: np.random.Generator, n: int, median_ms: float, sigma: float) -> np.ndarray:
    return (median_ms * rng.lognormal(0.0, sigma, size=n)).astype(np.int64)


def _maybe(rng: np.random.Generator, cond: np.ndarray, p: float | np.ndarray, at: np.ndarray) -> np.ndarray:
    """`at` where `cond` and a coin with probability `p` land, else NEVER."""
    hit = cond & (rng.random(len(cond)) < p)
    return np.where(hit, at, NEVER)


def make_people(rng: np.random.Generator, n: int, cal: Calendar, cat: Catalog, first: int = 0,
                taken: Taken | None = None) -> pd.DataFrame:
    """One row per person: identifiers, acquisition, and planned times of each step.

    Rows are people `first .. first + n - 1` of the run (a member block): `person_id` is
    numbered from `first`, identifiers are distinct from those in `taken`."""
    idx = first + np.arange(n)
    taken = Taken() if taken is None else taken
    p = pd.DataFrame({"person_id": np.char.add("P", np.char.zfill(idx.astype(str), 7)).astype(object)})
    p["distinct_id"] = tokens(rng, n, 12, "d-", hexchars=True, taken=taken)
    p["unionid"] = tokens(rng, n, 26, "oU", taken=taken)
    p["openid_mp"] = tokens(rng, n, 27, "o", taken=taken)
    p["openid_sub"] = tokens(rng, n, 27, "o", taken=taken)
    p["openid_svc"] = tokens(rng, n, 27, "o", taken=taken)
    p["external_userid"] = tokens(rng, n, 30, "wm", taken=taken)
    p["phone"] = mobiles(rng, n, exclude=TEST_PHONE, taken=taken)
    p["engagement"] = rng.lognormal(0.0, 0.7, size=n) / np.exp(0.7**2 / 2)
    p["koc"] = rng.pareto(1.5, size=n) + 0.05  # how much a person invites and shares
    p["gender"] = rng.integers(1, 3, size=n)
    p["name"] = SURNAMES[rng.integers(0, len(SURNAMES), size=n)] + np.where(p.gender == 1, "先生", "女士")

    fission = rng.random(n) < FISSION_SHARE
    wechat = fission | (rng.random(n) >= NON_WECHAT_SHARE)
    p["wechat"], p["fission"] = wechat, fission
    p.loc[~wechat, "unionid"] = None

    # Acquisition: a mildly front-loaded arrival day (the brand has a base to onboard).
    day = np.minimum((cal.days * rng.beta(0.85, 1.0, size=n)).astype(np.int64), cal.days - 1)
    acq_t = cal.day_start(day) + time_of_day_ms(rng, n)
    shares = np.array([c[1] for c in ACQ_CHANNELS])
    acq = rng.choice(len(ACQ_CHANNELS), size=n, p=shares / shares.sum())
    h5_channels = np.array([c[0] in ("douyin_kol", "xiaohongshu_kol", "ads", "live", "sms") for c in ACQ_CHANNELS])
    acq = np.where(~wechat & ~h5_channels[acq], 0, acq)  # non-WeChat people come from H5 channels
    acq = np.where(fission, -1, acq)
    campaign = np.where((acq >= 0) & (rng.random(n) < 0.7), cat.camp_at[np.maximum(acq, 0), day], -1)
    p["acq_t"], p["acq"], p["campaign"] = acq_t, acq, campaign
    p["creative"] = rng.integers(0, 3, size=n)
    store_acq = acq == [c[0] for c in ACQ_CHANNELS].index("store")

    # Interest: the first click-through after the first exposure (or the invite itself).
    eng = p.engagement.to_numpy()
    p_interest = np.where(store_acq, 0.85, 1 - np.exp(-0.8 * eng))
    delay = np.where(store_acq, rng.integers(2 * MIN_MS, 15 * MIN_MS, size=n), _lognormal_ms(rng, n, 2 * HOUR_MS, 1.6))
    interest_t = np.where(fission, acq_t, _maybe(rng, np.ones(n, bool), p_interest, acq_t + delay))
    p["interest_t"] = interest_t
    interested = interest_t != NEVER
    wi = interested & wechat & ~fission  # interested and reached through a WeChat property
    oa_first = wi & ~store_acq & (rng.random(n) < 0.2)
    p["oa_first"] = oa_first

    # Owned channels each person connects to, after interest.
    p["mp_t"] = np.where(wi & ~oa_first, interest_t, NEVER)
    later_mp = (oa_first & (rng.random(n) < 0.5)) | (fission & (rng.random(n) < 0.4))
    p.loc[later_mp, "mp_t"] = (interest_t + _lognormal_ms(rng, n, 3 * DAY_MS, 1.0))[later_mp]
    sub_t = np.where(oa_first, interest_t + rng.integers(5_000, 60_000, size=n),
                     _maybe(rng, wi | fission, np.where(fission, 0.1, 0.3), interest_t + _lognormal_ms(rng, n, DAY_MS, 1.2)))
    svc_t = _maybe(rng, wi, 0.28, interest_t + _lognormal_ms(rng, n, 2 * DAY_MS, 1.2))
    p["sub_t"], p["svc_t"] = sub_t, svc_t
    p["sub_end"] = _maybe(rng, sub_t != NEVER, 0.2, sub_t + rng.exponential(20 * DAY_MS, size=n).astype(np.int64))
    p["svc_end"] = _maybe(rng, svc_t != NEVER, 0.1, svc_t + rng.exponential(30 * DAY_MS, size=n).astype(np.int64))

    contact_t = np.where(store_acq & wi, _maybe(rng, wi, 0.9, acq_t + rng.integers(2 * MIN_MS, 15 * MIN_MS, size=n)),
                         _maybe(rng, wi, 0.5, interest_t + _lognormal_ms(rng, n, DAY_MS, 1.2)))
    contact_t = np.where(fission, _maybe(rng, fission, 0.3, acq_t + _lognormal_ms(rng, n, 3 * DAY_MS, 1.0)), contact_t)
    p["contact_t"] = contact_t
    has_contact = contact_t != NEVER
    # Store visitors are added by a guide of that store, everyone else by any staff member.
    n_staff = len(cat.staff)
    staff = rng.integers(0, n_staff, size=n)
    store = np.where(campaign >= 0, cat.creative_store[np.maximum(campaign, 0), p.creative.to_numpy()], -1)
    store = np.where(store >= 0, store, rng.integers(0, len(cat.stores), size=n))
    p["staff"] = np.where(store_acq, _guide_of_store(rng, cat, store), staff)
    p["store"] = store
    p["contact2_t"] = _maybe(rng, has_contact, 0.1, contact_t + _lognormal_ms(rng, n, 10 * DAY_MS, 0.8))
    p["staff2"] = (p.staff.to_numpy() + rng.integers(1, max(2, n_staff), size=n)) % n_staff
    p["remark_phone"] = has_contact & (rng.random(n) < np.where(store_acq, 0.6, 0.35))
    p["group_t"] = _maybe(rng, has_contact & ~fission, 0.45, contact_t + _lognormal_ms(rng, n, 12 * HOUR_MS, 1.2))

    # Leads and deals: thinning steps with delays of days to weeks.
    lead_t = _maybe(rng, interested, np.clip(0.2 * eng, 0, 0.7) * np.where(wechat, 1.0, 2.0),
                    interest_t + _lognormal_ms(rng, n, 5 * DAY_MS, 1.0))
    p["lead_t"] = lead_t
    p["deal_t"] = _maybe(rng, lead_t != NEVER, np.clip(0.35 * np.sqrt(eng), 0, 0.8), lead_t + _lognormal_ms(rng, n, 9 * DAY_MS, 0.9))
    p["small_order_t"] = _maybe(rng, interested & wechat & (lead_t == NEVER), 0.05, interest_t + _lognormal_ms(rng, n, 6 * DAY_MS, 1.0))
    # Lead kind: 0 appointment (home measurement), 1 form, 2 coupon, 3 consultation with the
    # staff contact (only possible once the person is a contact).
    kind = rng.choice(4, size=n, p=[0.35, 0.25, 0.25, 0.15])
    can_consult = has_contact & (contact_t <= lead_t)
    p["lead_kind"] = np.where((kind == 3) & ~can_consult, 0, kind)
    p.loc[~wechat, "lead_kind"] = 1  # H5 lead forms on the ad platform
    # A lead needs somewhere to happen: people without the mini-program open it to book.
    need_mp = wechat & (lead_t != NEVER) & (p.mp_t.to_numpy() == NEVER) & (p.lead_kind.to_numpy() != 3)
    p.loc[need_mp, "mp_t"] = lead_t[need_mp] - 5 * MIN_MS
    for col in ("interest_t", "mp_t", "sub_t", "svc_t", "contact_t", "contact2_t", "group_t", "lead_t", "deal_t", "small_order_t"):
        v = p[col].to_numpy()
        p[col] = np.where(v >= cal.t_end, NEVER, v)
    return p


def _guide_of_store(rng: np.random.Generator, cat: Catalog, store: np.ndarray) -> np.ndarray:
    """A random guide working in `store` (guides are dealt to stores round-robin)."""
    n_stores = len(cat.stores)
    n_guides = int((cat.staff_store >= 0).sum())
    per_store = (n_guides - store + n_stores - 1) // n_stores
    return store + n_stores * (rng.random(len(store)) * per_store).astype(np.int64)
