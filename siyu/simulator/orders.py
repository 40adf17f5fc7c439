"""Orders: deals after leads, small impulse buys, repeat purchases, and their later states.

An order is first exported on the day it was created/paid and re-sent when it changes
(completed, refunded, or auto-closed when never paid); each export row is the order's
state at that `updated_at`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .campaigns import Catalog
from .config import DAY_MS, MP_APPID, STORE_LANDLINE, TEST_PHONE, TZ_OFFSET_MS, Calendar
from .contacts import phone_styles
from .groups import Groups
from .ids import phone_spelling
from .people import NEVER
from .textpool import PRODUCTS

PLATFORMS = np.array(["mini_program", "youzan", "store", "tmall", "jd"], dtype=object)
PLATFORM_SHARE = np.array([0.55, 0.10, 0.15, 0.12, 0.08])
PREFIX = {"mini_program": "MP", "youzan": "YZ", "store": "ST", "tmall": "TM", "jd": "JD"}
SHARED_BUYERS = 8  # people whose orders carry each shared phone


def _intents(rng: np.random.Generator, cal: Calendar, p: pd.DataFrame) -> pd.DataFrame:
    """(person, created time, big-ticket?) of every order placed in the window."""
    deal, small = p.deal_t.to_numpy(), p.small_order_t.to_numpy()
    d, s = np.flatnonzero(deal != NEVER), np.flatnonzero(small != NEVER)
    o = pd.DataFrame({"person": np.concatenate([d, s]), "t": np.concatenate([deal[d], small[s]]),
                      "big": np.r_[np.ones(len(d), bool), np.zeros(len(s), bool)], "first": True})
    repeats = [o]
    prev = o
    for share, median_days in ((0.25, 25), (0.3, 30)):  # 2nd and 3rd purchases
        prev = prev[rng.random(len(prev)) < share].copy()
        prev["t"] = prev.t + (median_days * DAY_MS * rng.lognormal(0, 0.6, size=len(prev))).astype(np.int64)
        prev["big"] = rng.random(len(prev)) < 0.4
        prev["first"] = False
        repeats.append(prev)
    o = pd.concat(repeats, ignore_index=True)
    return o[o.t < cal.t_end].sort_values(["t", "person"], kind="stable").reset_index(drop=True)


def _items(rng: np.random.Generator, big: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(items JSON string, total amount): one big piece (+ maybe an accessory) or 1-2 small items."""
    n = len(big)
    big_ids = np.array([i for i, pr in enumerate(PRODUCTS) if pr[3]])
    small_ids = np.array([i for i, pr in enumerate(PRODUCTS) if not pr[3]])
    first = np.where(big, rng.choice(big_ids, size=n), rng.choice(small_ids, size=n))
    q1 = np.where(big, 1, rng.integers(1, 3, size=n))
    has2 = rng.random(n) < np.where(big, 0.4, 0.3)
    second = rng.choice(small_ids, size=n)
    q2 = rng.integers(1, 3, size=n)
    price = np.array([pr[2] for pr in PRODUCTS])
    head = np.array([f'{{"sku": "{pr[0]}", "title": "{pr[1]}", "qty": ' for pr in PRODUCTS], dtype=object)
    tail = np.array([f', "price": "{pr[2]:.2f}"}}' for pr in PRODUCTS], dtype=object)
    it1 = head[first] + q1.astype(str).astype(object) + tail[first]
    it2 = np.where(has2, ", " + head[second] + q2.astype(str).astype(object) + tail[second], "")
    total = price[first] * q1 + np.where(has2, price[second] * q2, 0.0)
    return "[" + it1 + it2 + "]", total


def make_orders(rng: np.random.Generator, cal: Calendar, cat: Catalog, p: pd.DataFrame, G: Groups,
                phone_linked: np.ndarray, numbers: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(export rows, one per order version; orders, one per order for the truth) of one
    member block. `numbers[platform, day]` counts the order numbers earlier blocks used
    (updated in place), so running numbers continue across blocks."""
    o = _intents(rng, cal, p)
    n = len(o)
    person = o.person.to_numpy()
    wechat = p.wechat.to_numpy()[person]
    plat = rng.choice(len(PLATFORMS), size=n, p=PLATFORM_SHARE)
    plat = np.where(wechat, plat, np.where(rng.random(n) < 0.55, 3, 4))
    # Phone-only platforms only for people whose phone is stitched to them elsewhere.
    plat = np.where((plat >= 3) & ~phone_linked[person], 0, plat)
    o["platform"] = PLATFORMS[plat]
    o["items"], total = _items(rng, o.big.to_numpy())
    discount = np.where(rng.random(n) < 0.5, np.round(total * rng.uniform(0.03, 0.12, size=n) / 10) * 10, 0.0)
    o["total"], o["discount"], o["paid_amount"] = total, discount, total - discount
    day = cal.day_of(o.t.to_numpy())
    numbers = np.zeros((len(PLATFORMS), cal.days), dtype=np.int64) if numbers is None else numbers
    o["order_no"] = _order_numbers(cal, plat, day, numbers)

    phone_str = phone_spelling(p.phone.iloc[person].reset_index(drop=True), phone_styles(rng, n)).to_numpy()
    mp, yz, st = plat == 0, plat == 1, plat == 2
    o["buyer_phone"] = np.where(mp & (rng.random(n) < 0.4), None, np.where(mp, phone_str, p.phone.to_numpy()[person]))
    o["buyer_openid"] = np.where(mp, p.openid_mp.to_numpy()[person], None)
    o["buyer_appid"] = np.where(mp, MP_APPID, None)
    o["buyer_unionid"] = np.where(mp | yz | st, p.unionid.to_numpy()[person], None)
    o["store_id"] = np.where(st, cat.stores[p.store.to_numpy()[person]], None)
    staff_is_guide = cat.staff_store[p.staff.to_numpy()[person]] >= 0
    o["guide_userid"] = np.where(st | (mp & staff_is_guide & (rng.random(n) < 0.3)), cat.staff[p.staff.to_numpy()[person]], None)
    o["group_id"] = _group_of_order(rng, G, o, mp | yz)
    camp = p.campaign.to_numpy()[person]
    o["campaign_id"] = np.where(o["first"].to_numpy() & (camp >= 0) & (rng.random(n) < 0.5),
                                cat.campaigns.campaign_id.to_numpy()[np.maximum(camp, 0)], None)
    shared = _share_phones(rng, o, st, mp)
    paid = st | (rng.random(n) < 0.9)
    o["created_t"] = o.t
    o["paid_t"] = np.where(paid, o.t + (60_000 * rng.lognormal(0, 0.8, size=n)).astype(np.int64), NEVER)
    rows = _versions(rng, cal, o, st, paid)
    return rows, o.assign(shared_phone=shared)


def _order_numbers(cal: Calendar, plat: np.ndarray, day: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Platform prefix + yyyymmdd + 5-digit running number per platform and day."""
    if len(plat) == 0:  # a small block may place no order at all
        return np.array([], dtype=object)
    seq = pd.DataFrame({"pl": plat, "d": day}).groupby(["pl", "d"], sort=False).cumcount().to_numpy() + 1
    seq = seq + numbers[plat, day]
    np.maximum.at(numbers, (plat, day), seq)
    ymd = np.array([f"{cal.date(d):%Y%m%d}" for d in range(cal.days)], dtype=object)
    prefix = np.array([PREFIX[pl] for pl in PLATFORMS], dtype=object)[plat]
    return prefix + ymd[day] + np.char.zfill(seq.astype(str), 5).astype(object)


def _group_of_order(rng: np.random.Generator, G: Groups, o: pd.DataFrame, eligible: np.ndarray) -> np.ndarray:
    """A third of mini-program/youzan orders by group members come from a group share."""
    m = G.members
    first = m.sort_values(["person", "join_t"], kind="stable").drop_duplicates("person")
    chat_of = pd.Series(first.chat.to_numpy(), index=first.person.to_numpy())
    join_of = pd.Series(first.join_t.to_numpy(), index=first.person.to_numpy())
    person = o.person.to_numpy()
    chat = chat_of.reindex(person).fillna(-1).astype(np.int64).to_numpy()
    joined = join_of.reindex(person).fillna(np.inf).to_numpy() < o.t.to_numpy()
    use = eligible & (chat >= 0) & joined & (rng.random(len(o)) < 0.35)
    return np.where(use, G.groups.chat_id.to_numpy()[np.maximum(chat, 0)], None)


def _share_phones(rng: np.random.Generator, o: pd.DataFrame, st: np.ndarray, mp: np.ndarray) -> np.ndarray:
    """Put the store landline / the test-account mobile on orders of several different people
    (who still carry their own unionid): identifiers that must not merge them."""
    shared = np.zeros(len(o), dtype=object)
    shared[:] = None
    for phone, pool in ((STORE_LANDLINE, st), (TEST_PHONE, mp)):
        cand = o[pool].drop_duplicates("person")
        pick = cand.index.to_numpy()[rng.permutation(len(cand))[:SHARED_BUYERS]]
        o.loc[pick, "buyer_phone"] = phone
        shared[pick] = phone
    return shared


def _versions(rng: np.random.Generator, cal: Calendar, o: pd.DataFrame, store: np.ndarray, paid: np.ndarray) -> pd.DataFrame:
    n = len(o)
    created, paid_t = o.created_t.to_numpy(), o.paid_t.to_numpy()
    refund = paid & ~store & (rng.random(n) < 0.07)
    full = refund & (rng.random(n) < 0.6)
    success = paid & ~store & ~full & ((rng.random(n) < 0.75) | refund)
    ts = paid_t + rng.integers(5 * DAY_MS, 15 * DAY_MS, size=n)
    tr = np.where(full, paid_t + rng.integers(DAY_MS, 5 * DAY_MS, size=n), ts + rng.integers(DAY_MS, 10 * DAY_MS, size=n))
    partial_amount = np.round(o.paid_amount.to_numpy() * rng.uniform(0.1, 0.5, size=n), 2)
    v0 = pd.DataFrame({"i": np.arange(n), "v": 0, "updated": np.where(paid, paid_t, created),
                       "status": np.where(store, "TRADE_SUCCESS", np.where(paid, "WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_PAY")),
                       "refund": 0.0})
    close = np.flatnonzero(~paid)
    v_close = pd.DataFrame({"i": close, "v": 1, "updated": created[close] + DAY_MS, "status": "TRADE_CLOSED", "refund": 0.0})
    s = np.flatnonzero(success)
    v_succ = pd.DataFrame({"i": s, "v": 1, "updated": ts[s], "status": "TRADE_SUCCESS", "refund": 0.0})
    r = np.flatnonzero(refund)
    v_ref = pd.DataFrame({"i": r, "v": 2, "updated": tr[r], "status": np.where(full[r], "TRADE_CLOSED", "TRADE_SUCCESS"),
                          "refund": np.where(full[r], o.paid_amount.to_numpy()[r], partial_amount[r])})
    v = pd.concat([v0, v_close, v_succ, v_ref], ignore_index=True)
    v = v[v.updated < cal.t_end].sort_values(["updated", "i", "v"], kind="stable").reset_index(drop=True)
    src = o.iloc[v.i.to_numpy()].reset_index(drop=True)
    rows = pd.DataFrame({"day": cal.day_of(v.updated.to_numpy()), "i": v.i, "v": v.v, "order_no": src.order_no,
                         "status": v.status, "created_at": _fmt(src.created_t.to_numpy()),
                         "paid_at": _fmt(src.paid_t.to_numpy()), "updated_at": _fmt(v.updated.to_numpy())})
    for col in ("buyer_phone", "buyer_openid", "buyer_appid", "buyer_unionid", "platform", "store_id", "guide_userid",
                "group_id", "campaign_id"):
        rows[col] = src[col].to_numpy()
    rows["total_amount"] = _money(src.total.to_numpy())
    rows["discount_amount"] = _money(src.discount.to_numpy())
    rows["paid_amount"] = _money(np.where(src.paid_t.to_numpy() != NEVER, src.paid_amount.to_numpy(), 0.0))
    rows["refund_amount"] = _money(v.refund.to_numpy())
    rows["items"] = src["items"].to_numpy()
    return rows


def _fmt(t: np.ndarray) -> np.ndarray:
    """Epoch ms -> 'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai; NEVER -> None."""
    local = pd.to_datetime(np.where(t == NEVER, 0, t) + TZ_OFFSET_MS, unit="ms").strftime("%Y-%m-%d %H:%M:%S")
    return np.where(t == NEVER, None, local.to_numpy(dtype=object))


def _money(x: np.ndarray) -> np.ndarray:
    return np.char.mod("%.2f", np.round(x, 2)).astype(object)
