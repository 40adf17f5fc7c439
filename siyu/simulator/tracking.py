"""Tracking-SDK events: exposures, opens, clicks, mini-program use, leads.

Every event row is built from integer codes (person, channel, app, identity bitmask) and
only turned into JSON by DuckDB at write time, so tens of millions of rows stay cheap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .campaigns import ACQ_CHANNELS, Catalog, acquisition_channel_codes
from .config import (
    APP_MP,
    APP_SUB,
    APP_SVC,
    CHANNEL_CODE,
    CLICK_RATES,
    DAY_MS,
    EVENT_CODE,
    HOUR_MS,
    MIN_MS,
    OPEN_RATES,
    Calendar,
    time_of_day_ms,
)
from .groups import INF, Groups
from .messages import Messages
from .people import NEVER

# Identity bitmask: which of the person's identifiers the event carries in `identities`.
ID_UNIONID, ID_OPENID, ID_EXTERNAL, ID_PHONE = 1, 2, 4, 8
WECOM_IDS = ID_EXTERNAL | ID_UNIONID
MP_IDS = ID_OPENID | ID_UNIONID
# Push schedules: channel -> (weekdays, local send hour, touchpoint prefix).
PUSHES = {
    "oa_subscription": ((0, 2, 4), 20.5, "push-sub"),
    "oa_service": ((3,), 12.0, "push-svc"),
    "wecom_moments": ((0, 3, 5), 10.0, "mom"),
    "wecom_1v1": ((1,), 19.0, "mass"),
}


Col = np.ndarray | int | str | None


def _frame(t: np.ndarray, ev: str | np.ndarray, person: np.ndarray, ch: str | np.ndarray, app: Col = 0, ids: Col = 0,
           tp: Col = None, camp: Col = -1, staff: Col = -1, chat: Col = -1, msg: Col = 0, url: Col = None) -> pd.DataFrame:
    """Event rows; scalars broadcast. `ev`/`ch` given as names are stored as codes."""
    n = len(t)
    cols = dict(t=t, ev=EVENT_CODE[ev] if isinstance(ev, str) else ev, person=person,
                ch=CHANNEL_CODE[ch] if isinstance(ch, str) else ch, app=app, ids=ids, tp=tp, camp=camp,
                staff=staff, chat=chat, msg=msg, url=url)
    return pd.DataFrame({k: (np.full(n, v, dtype=object if v is None or isinstance(v, str) else None)
                             if np.ndim(v) == 0 else v) for k, v in cols.items()})


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand half-open index ranges [lo, hi) into (owner row, index) pairs."""
    cnt = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(len(lo)), cnt)
    return owner, lo[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(cnt) - cnt, cnt)


def make_tracking(rng: np.random.Generator, cal: Calendar, cat: Catalog, p: pd.DataFrame, G: Groups, M: Messages,
                  first_event: int = 0) -> pd.DataFrame:
    """Events of one member block, in time order. Event ids are a shuffle of the block's own
    range `first_event ..` (x 7919 plus noise), so they never repeat across blocks."""
    parts = [
        _acquisition(rng, cal, cat, p),
        _first_touches(rng, p),
        *_pushes(rng, cal, p),
        *_group_pushes(rng, cal, G, M),
        *_organic(rng, cal, p),
        *_leads(rng, p),
    ]
    ev = pd.concat(parts, ignore_index=True)
    ev = ev[(ev.t < cal.t_end) & (ev.t >= cal.t0)].sort_values(["t", "person", "ev"], kind="stable")
    ev = ev.reset_index(drop=True)
    ev["event_id"] = ((first_event + rng.permutation(len(ev)).astype(np.int64)) * 7919
                      + rng.integers(0, 7919, size=len(ev)))
    return ev


def _acquisition(rng: np.random.Generator, cal: Calendar, cat: Catalog, p: pd.DataFrame) -> pd.DataFrame:
    """First exposure of every non-invited person, plus later re-exposures on paid channels."""
    codes = acquisition_channel_codes()
    prefixes = np.array([c[3] + "-organic" for c in ACQ_CHANNELS], dtype=object)
    who = np.flatnonzero(p.acq.to_numpy() >= 0)
    acq, camp = p.acq.to_numpy()[who], p.campaign.to_numpy()[who]
    # Re-exposures: ads and KOL content keep reaching people (anonymously: the platform
    # only hands over the SDK's distinct_id).
    k = np.where(rng.random(len(who)) < 0.4, rng.poisson(1.5, size=len(who)), 0)
    rep = np.repeat(np.arange(len(who)), k)
    t_re = p.acq_t.to_numpy()[who][rep] + rng.exponential(20 * DAY_MS, size=len(rep)).astype(np.int64)
    paid = np.array([c[0] in ("douyin_kol", "xiaohongshu_kol", "ads", "video_channel", "live") for c in ACQ_CHANNELS])
    acq_re = rng.choice(np.flatnonzero(paid), size=len(rep))
    day_re = np.clip(cal.day_of(t_re), 0, cal.days - 1)
    camp_re = np.where(rng.random(len(rep)) < 0.7, cat.camp_at[acq_re, day_re], -1)
    person = np.concatenate([who, who[rep]])
    acq_all = np.concatenate([acq, acq_re])
    camp_all = np.concatenate([camp, camp_re])
    creative = rng.integers(0, 3, size=len(person))
    tp = np.where(camp_all >= 0, cat.creatives[np.maximum(camp_all, 0), creative], prefixes[acq_all])
    name = np.array([c[0] for c in ACQ_CHANNELS])[acq_all]
    ev = np.where(name == "live", EVENT_CODE["live_view"],
                  np.where(name == "wecom_moments", EVENT_CODE["moments_impression"], EVENT_CODE["content_impression"]))
    t = np.concatenate([p.acq_t.to_numpy()[who], t_re])
    return _frame(t, ev, person, codes[acq_all], tp=tp, camp=camp_all)


def _first_touches(rng: np.random.Generator, p: pd.DataFrame) -> pd.DataFrame:
    """The click-through that makes a person interested, and their first mini-program visit.

    These carry distinct_id together with unionid + openid: the record that stitches the
    SDK id to the WeChat ids."""
    acq, camp = p.acq.to_numpy(), p.campaign.to_numpy()
    wechat = p.wechat.to_numpy()
    it = p.interest_t.to_numpy()
    mp_t = p.mp_t.to_numpy()
    oa_first = p.oa_first.to_numpy()
    mp = np.flatnonzero(mp_t != NEVER)
    oa = np.flatnonzero(oa_first & (it != NEVER))
    h5 = np.flatnonzero(~wechat & (it != NEVER))
    codes = acquisition_channel_codes()
    return pd.concat([
        _frame(mp_t[mp], "miniprogram_visit", mp, "mini_program", APP_MP, MP_IDS, "page-home",
               camp=np.where(mp_t[mp] == it[mp], camp[mp], -1)),
        _frame(it[oa], "article_read", oa, "oa_subscription", APP_SUB, ID_OPENID | ID_UNIONID,
               np.char.add("art-", rng.integers(100, 999, size=len(oa)).astype(str)).astype(object), camp=camp[oa]),
        _frame(it[h5], "product_view", h5, codes[acq[h5]], tp="h5-product", camp=camp[h5]),
    ])


def _open_and_click(rng: np.random.Generator, d: pd.DataFrame, channel: str, click_event: str,
                    click_url: np.ndarray | None) -> list[pd.DataFrame]:
    """From push_delivered rows, draw opens and click-throughs. Exactly round(rate x n)
    deliveries are opened, so the realised open rate equals the configured one even on
    small runs (less only by opens that would fall after the window)."""
    hit = np.zeros(len(d), dtype=bool)
    hit[rng.choice(len(d), size=int(round(OPEN_RATES[channel] * len(d))), replace=False)] = True
    opened = d[hit].copy()
    opened["t"] = opened.t + np.minimum((40 * MIN_MS * rng.lognormal(0, 1.2, size=len(opened))).astype(np.int64), 2 * DAY_MS)
    opened["ev"] = EVENT_CODE["push_opened"]
    pick = rng.random(len(opened)) < CLICK_RATES[channel]
    click = opened[pick].copy()
    click["t"] = click.t + rng.integers(5_000, 90_000, size=len(click))
    click["ev"] = EVENT_CODE[click_event]
    if click_url is not None:
        click["url"] = click_url[pick] if len(click_url) == len(opened) else click_url[rng.integers(0, len(click_url), size=len(click))]
    return [d, opened, click]


def _pushes(rng: np.random.Generator, cal: Calendar, p: pd.DataFrame) -> list[pd.DataFrame]:
    """Brand-wide pushes of the OA accounts and the staff accounts (moments, mass 1:1)."""
    out = []
    days = np.arange(cal.days)
    end = np.where(p.sub_end.to_numpy() == NEVER, cal.t_end, p.sub_end.to_numpy())
    audiences = {
        "oa_subscription": (p.sub_t.to_numpy(), end, APP_SUB, ID_OPENID),
        "oa_service": (p.svc_t.to_numpy(), np.where(p.svc_end.to_numpy() == NEVER, cal.t_end, p.svc_end.to_numpy()),
                       APP_SVC, ID_OPENID),
        "wecom_moments": (p.contact_t.to_numpy(), np.full(len(p), cal.t_end), 0, WECOM_IDS),
        "wecom_1v1": (p.contact_t.to_numpy(), np.full(len(p), cal.t_end), 0, WECOM_IDS),
    }
    urls = np.char.add("https://m.brand.example/p/", np.arange(10, 99).astype(str)).astype(object)
    for channel, (weekdays, hour, prefix) in PUSHES.items():
        send_days = days[np.isin(cal.weekday(days), weekdays)]
        send_t = cal.day_start(send_days) + int(hour * HOUR_MS)
        tps = np.array([f"{prefix}-{cal.date(d):%Y%m%d}" for d in send_days], dtype=object)
        start, stop, app, ids = audiences[channel]
        who = np.flatnonzero(start != NEVER)
        owner, send = ranges(np.searchsorted(send_t, start[who]), np.searchsorted(send_t, stop[who]))
        person = who[owner]
        t = send_t[send] + rng.integers(0, 5 * MIN_MS, size=len(send))
        staff = p.staff.to_numpy()[person] if channel.startswith("wecom") else -1
        d = _frame(t, "push_delivered", person, channel, app, ids, tps[send], staff=staff)
        oa = channel.startswith("oa_")
        out += _open_and_click(rng, d, channel, "article_read" if oa else "link_click", None if oa else urls)
    return out


def _group_pushes(rng: np.random.Generator, cal: Calendar, G: Groups, M: Messages) -> list[pd.DataFrame]:
    """Staff posts reach the members in the group at that moment (keyed by group + time)."""
    m, posts = G.members, M.posts
    def rel(chat: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Sort key group-then-time, so one searchsorted serves all groups."""
        return chat * (1 << 36) + (np.minimum(t, cal.t_end) - cal.t0)

    order = np.lexsort((posts.msgtime.to_numpy(), posts.room.to_numpy()))
    posts = posts.iloc[order].reset_index(drop=True)
    keys = rel(posts.room.to_numpy(), posts.msgtime.to_numpy())
    chat = m.chat.to_numpy()
    end = np.where(m.end_t.to_numpy() == INF, cal.t_end, m.end_t.to_numpy())
    owner, post = ranges(np.searchsorted(keys, rel(chat, m.join_t.to_numpy())), np.searchsorted(keys, rel(chat, end)))
    person = m.person.to_numpy()[owner]
    t = posts.msgtime.to_numpy()[post] + rng.integers(1_000, 60_000, size=len(post))
    d = _frame(t, "push_delivered", person, "wecom_group", 0, WECOM_IDS, "grp-post", staff=posts.from_idx.to_numpy()[post],
               chat=posts.room.to_numpy()[post], msg=posts.msg.to_numpy()[post], url=posts.url.to_numpy()[post])
    d["tp"] = np.where(posts.msgtype.to_numpy()[post] == "weapp", "grp-weapp", "grp-link")
    delivered, opened, click = _open_and_click(rng, d, "wecom_group", "link_click", None)
    weapp = click.tp.to_numpy() == "grp-weapp"
    # A mini-program card opens the mini-program: the event knows openid + unionid.
    click.loc[weapp, "ev"] = EVENT_CODE["miniprogram_visit"]
    click.loc[weapp, "app"] = APP_MP
    click.loc[weapp, "ids"] = MP_IDS
    return [delivered, opened, click]


def _organic(rng: np.random.Generator, cal: Calendar, p: pd.DataFrame) -> list[pd.DataFrame]:
    """Mini-program sessions of engaged users: visits, product views, shares (KOC)."""
    mp_t = p.mp_t.to_numpy()
    who = np.flatnonzero(mp_t != NEVER)
    span_days = (cal.t_end - mp_t[who]) / DAY_MS
    k = rng.poisson(0.05 * p.engagement.to_numpy()[who] * span_days)
    person = np.repeat(who, k)
    start_day = cal.day_of(mp_t[person]) + 1
    day = start_day + (rng.random(len(person)) * (cal.days - start_day)).astype(np.int64)
    t = cal.day_start(day) + time_of_day_ms(rng, len(person))
    pages = np.array(["page-home", "page-category", "page-live", "page-member"], dtype=object)
    visit = _frame(t, "miniprogram_visit", person, "mini_program", APP_MP, MP_IDS, pages[rng.integers(0, 4, size=len(t))])
    pv = visit[rng.random(len(visit)) < 0.6].copy()
    pv["t"] = pv.t + rng.integers(20_000, 5 * MIN_MS, size=len(pv))
    pv["ev"] = EVENT_CODE["product_view"]
    pv["tp"] = np.char.add("sku-", rng.integers(10, 99, size=len(pv)).astype(str)).astype(object)
    koc = p.koc.to_numpy()[pv.person.to_numpy()]
    share = pv[rng.random(len(pv)) < np.minimum(0.04 * koc, 0.5)].copy()
    share["t"] = share.t + rng.integers(10_000, 3 * MIN_MS, size=len(share))
    share["ev"] = EVENT_CODE["share"]
    return [visit, pv, share]


def _leads(rng: np.random.Generator, p: pd.DataFrame) -> list[pd.DataFrame]:
    """Lead events (and a second lead for some), preceded by a product view in the mini-program."""
    lead_t = p.lead_t.to_numpy()
    who = np.flatnonzero(lead_t != NEVER)
    again = who[rng.random(len(who)) < 0.3]
    t = np.concatenate([lead_t[who], lead_t[again] + (7 * DAY_MS * rng.lognormal(0, 0.7, size=len(again))).astype(np.int64)])
    person = np.concatenate([who, again])
    kind = np.concatenate([p.lead_kind.to_numpy()[who], rng.choice(3, size=len(again))])
    wechat = p.wechat.to_numpy()[person]
    kind = np.where(wechat, kind, 1)
    events = np.array([EVENT_CODE[e] for e in ("appointment_booked", "form_submit", "coupon_claim", "consultation")])
    tps = np.array(["form-measure", "form-quote", "coupon-center", "consult-1v1"], dtype=object)
    codes = acquisition_channel_codes()
    ch = np.where(kind == 3, CHANNEL_CODE["wecom_1v1"],
                  np.where(wechat, CHANNEL_CODE["mini_program"], codes[np.maximum(p.acq.to_numpy()[person], 0)]))
    ids = np.select([kind == 3, ~wechat, kind == 0, kind == 1],
                    [WECOM_IDS, ID_PHONE, ID_OPENID | ID_PHONE | np.where(rng.random(len(t)) < 0.5, ID_UNIONID, 0),
                     MP_IDS | ID_PHONE], MP_IDS)
    app = np.where((kind == 3) | ~wechat, 0, APP_MP)
    staff = np.where(kind == 3, p.staff.to_numpy()[person], -1)
    leads = _frame(t, events[kind], person, ch, app, ids, tps[kind], staff=staff)
    mp = (kind != 3) & wechat
    pv = _frame(t[mp] - rng.integers(2 * MIN_MS, 30 * MIN_MS, size=int(mp.sum())), "product_view", person[mp],
                "mini_program", APP_MP, MP_IDS, "sku-88")
    return [pv, leads]
