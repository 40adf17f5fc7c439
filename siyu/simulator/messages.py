"""WeCom session-archive messages: group chatter, staff posts, bots, recalls, 1:1 chats.

Member chatter follows the group's life (a burst in the first days, then silence for
most groups; steady chatter in lively ones). Staff keep posting product links and
mini-program cards twice a week until a group is dissolved; those posts are what group
members receive, open and click in the tracking data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import DAY_MS, HOUR_MS, MIN_MS, Calendar
from .groups import Groups
from .ids import Taken, _fresh_draws
from .people import NEVER
from .textpool import (
    BOT_TEXT,
    CONSULT_TEXTS,
    CONTACT_REPLIES,
    CONTACT_WELCOME,
    GROUP_WELCOME,
    LINK_TITLES,
    MEMBER_TEXTS,
    WEAPP_PAGES,
)

RECALL_RATE = 0.015
POST_WEEKDAYS = (1, 4)  # Tuesday and Friday


@dataclass(frozen=True)
class Messages:
    msgs: pd.DataFrame   # every archive line (send and recall)
    posts: pd.DataFrame  # staff link / mini-program posts in groups (drive group pushes)


def unique_ids(rng: np.random.Generator, n: int, taken: Taken | None = None) -> np.ndarray:
    """Random 63-bit message ids, distinct from each other and from those in `taken`."""
    return _fresh_draws(n, lambda k: rng.integers(1, 2**63 - 1, size=k, dtype=np.int64), lambda v: v, "msgid", taken)


def _group_days(cal: Calendar, G: Groups) -> pd.DataFrame:
    """One row per group and business day it exists (creation day .. day before dissolution)."""
    g = G.groups
    last = np.where(g.dissolve_day.to_numpy() != NEVER, g.dissolve_day.to_numpy() - 1, cal.days - 1)
    count = last - g.create_day.to_numpy() + 1
    chat = np.repeat(np.arange(len(g)), count)
    day = g.create_day.to_numpy()[chat] + np.arange(len(chat)) - np.repeat(np.cumsum(count) - count, count)
    return pd.DataFrame({"chat": chat, "day": day, "age": day - g.create_day.to_numpy()[chat]})


def make_messages(rng: np.random.Generator, cal: Calendar, G: Groups, people: pd.DataFrame, bot_ids: np.ndarray,
                  taken: Taken | None = None) -> Messages:
    """Messages of one member block: its groups' chatter and posts, its people's 1:1 chats.
    `bot_ids` are the brand's group bots (shared by all blocks)."""
    taken = Taken() if taken is None else taken
    gd = _group_days(cal, G)
    member = _member_messages(rng, cal, G, gd, people)
    posts = _staff_posts(rng, cal, G, gd)
    bots = _bot_messages(rng, cal, G, gd, bot_ids)
    direct = _direct_messages(rng, people)
    sends = pd.concat([member, posts, bots, direct], ignore_index=True)
    sends["to_staff"] = sends.to_staff.fillna(-1).astype(np.int64)
    sends["to_person"] = sends.to_person.fillna(-1).astype(np.int64)
    sends["bot_id"] = sends.bot_id.astype(object).where(sends.bot_id.notna(), None)
    sends = sends[sends.msgtime < cal.t_end]
    sends["msg"] = unique_ids(rng, len(sends), taken)
    # Members sometimes recall what they just sent.
    rec = sends[(sends.from_kind == "member") & (rng.random(len(sends)) < RECALL_RATE)].copy()
    rec["pre_msg"] = rec.msg
    rec["action"], rec["msgtype"] = "recall", "revoke"
    rec["msgtime"] = rec.msgtime + rng.integers(10_000, 120_000, size=len(rec))
    rec = rec[rec.msgtime < cal.t_end]
    rec["msg"] = unique_ids(rng, len(rec), taken)  # distinct from the sends, registered after them
    msgs = pd.concat([sends.assign(action="send", pre_msg=0), rec], ignore_index=True)
    msgs = msgs.sort_values(["msgtime", "msg"], kind="stable").reset_index(drop=True)
    post_rows = msgs[msgs.msgtype.isin(["link", "weapp"]) & (msgs.from_kind == "staff") & (msgs.room >= 0)]
    return Messages(msgs, post_rows[["room", "msg", "msgtime", "from_idx", "msgtype", "url"]].reset_index(drop=True))


def _member_messages(rng: np.random.Generator, cal: Calendar, G: Groups, gd: pd.DataFrame, p: pd.DataFrame) -> pd.DataFrame:
    g, m = G.groups, G.members
    n_chat = len(g)
    # Snapshot rows are sorted by (day, chat): locate each group-day's member segment.
    seg_key = G.snap_day * n_chat + m.chat.to_numpy()[G.snap_member]
    key = gd.day.to_numpy() * n_chat + gd.chat.to_numpy()
    start, stop = np.searchsorted(seg_key, key), np.searchsorted(seg_key, key, side="right")
    present = stop - start
    lively = g.lively.to_numpy()[gd.chat.to_numpy()]
    base = rng.lognormal(np.log(np.where(g.lively, 14.0, 6.0)), 0.6)[gd.chat.to_numpy()]
    tau = rng.uniform(0.6, 2.2, size=n_chat)[gd.chat.to_numpy()]
    age = gd.age.to_numpy()
    weekend = np.isin(cal.weekday(gd.day.to_numpy()), (5, 6))
    lam = np.where(lively, base * np.where(weekend, 1.3, 1.0), np.where(age < 7, base * np.exp(-age / tau), 0.0))
    lam = lam * np.minimum(1.0, present / 5.0)
    k = rng.poisson(lam)
    rows = np.repeat(np.arange(len(gd)), k)
    # Talkative members (engaged KOCs) speak more: weighted pick inside the segment.
    talk = (p.engagement.to_numpy() * np.sqrt(p.koc.to_numpy()))[m.person.to_numpy()[G.snap_member]]
    cw = np.concatenate([[0.0], np.cumsum(talk)])
    s, e = start[rows], stop[rows]
    target = cw[s] + rng.random(len(rows)) * (cw[e] - cw[s])
    pick = np.clip(np.searchsorted(cw, target, side="right") - 1, s, e - 1)
    mem = G.snap_member[pick]
    day_start = cal.day_start(gd.day.to_numpy()[rows])
    since = np.maximum(day_start, m.join_t.to_numpy()[mem])
    msgtime = since + (rng.random(len(rows)) * (day_start + DAY_MS - since)).astype(np.int64)
    image = rng.random(len(rows)) < 0.12
    return pd.DataFrame({
        "from_kind": "member", "from_idx": m.person.to_numpy()[mem], "room": gd.chat.to_numpy()[rows],
        "to_person": -1, "msgtime": msgtime,
        "msgtype": np.where(image, "image", "text"),
        "text": np.where(image, None, MEMBER_TEXTS[rng.integers(0, len(MEMBER_TEXTS), size=len(rows))]),
        "url": None, "title": None,
    })


def _staff_posts(rng: np.random.Generator, cal: Calendar, G: Groups, gd: pd.DataFrame) -> pd.DataFrame:
    g = G.groups
    welcome = gd[gd.age == 0]
    post = gd[np.isin(cal.weekday(gd.day.to_numpy()), POST_WEEKDAYS) & (gd.age > 0)]
    chat = np.concatenate([welcome.chat.to_numpy(), post.chat.to_numpy()])
    n_w, n = len(welcome), len(welcome) + len(post)
    day = np.concatenate([welcome.day.to_numpy(), post.day.to_numpy()])
    t = np.where(np.arange(n) < n_w, g.create_t.to_numpy()[chat] + MIN_MS,
                 cal.day_start(day) + 10 * HOUR_MS + rng.integers(0, 11 * HOUR_MS, size=n))
    assistant = g.assistant.to_numpy()[chat]
    sender = np.where((assistant >= 0) & (rng.random(n) < 0.3), assistant, g.owner.to_numpy()[chat])
    weapp = rng.random(n) < 0.3
    msgtype = np.where(np.arange(n) < n_w, "text", np.where(weapp, "weapp", "link"))
    link_url = np.char.add("https://m.brand.example/p/", rng.integers(10, 99, size=n).astype(str)).astype(object)
    url = np.where(weapp, WEAPP_PAGES[rng.integers(0, len(WEAPP_PAGES), size=n)], link_url)
    return pd.DataFrame({
        "from_kind": "staff", "from_idx": sender, "room": chat, "to_person": -1,
        "msgtime": t, "msgtype": msgtype,
        "text": np.where(msgtype == "text", GROUP_WELCOME, None),
        "url": np.where(msgtype == "text", None, url),
        "title": np.where(msgtype == "text", None, LINK_TITLES[rng.integers(0, len(LINK_TITLES), size=n)]),
    })


def _bot_messages(rng: np.random.Generator, cal: Calendar, G: Groups, gd: pd.DataFrame, bots: np.ndarray) -> pd.DataFrame:
    """Group-bot notices (`wb…` senders) in lively groups: the rules on the day the group
    starts, then now and then."""
    notice = (gd.age.to_numpy() == 0) | (rng.random(len(gd)) < 0.05)
    hit = gd[G.groups.lively.to_numpy()[gd.chat.to_numpy()] & notice]
    n = len(hit)
    return pd.DataFrame({
        "from_kind": "bot", "from_idx": rng.integers(0, len(bots), size=n), "room": hit.chat.to_numpy(),
        "to_person": -1,
        "msgtime": np.where(hit.age.to_numpy() == 0, G.groups.create_t.to_numpy()[hit.chat.to_numpy()] + 2 * MIN_MS,
                            cal.day_start(hit.day.to_numpy()) + 9 * HOUR_MS) + rng.integers(0, HOUR_MS, size=n),
        "msgtype": "text", "text": BOT_TEXT, "url": None, "title": None, "bot_id": bots[rng.integers(0, len(bots), size=n)],
    })


def _direct_messages(rng: np.random.Generator, p: pd.DataFrame) -> pd.DataFrame:
    """1:1 chats (empty roomid): welcome on every contact add, some replies, consultations."""
    parts = []
    for t_col, staff_col in (("contact_t", "staff"), ("contact2_t", "staff2")):
        who = np.flatnonzero(p[t_col].to_numpy() != NEVER)
        t = p[t_col].to_numpy()[who] + rng.integers(30_000, 180_000, size=len(who))
        staff = p[staff_col].to_numpy()[who]
        parts.append(pd.DataFrame({"from_kind": "staff", "from_idx": staff, "to_person": who, "msgtime": t,
                                   "text": CONTACT_WELCOME}))
        reply = rng.random(len(who)) < 0.4
        parts.append(pd.DataFrame({"from_kind": "member", "from_idx": who[reply], "to_staff": staff[reply],
                                   "msgtime": t[reply] + (10 * MIN_MS * rng.lognormal(0, 1, size=int(reply.sum()))).astype(np.int64),
                                   "text": CONTACT_REPLIES[rng.integers(0, len(CONTACT_REPLIES), size=int(reply.sum()))]}))
    who = np.flatnonzero((p.lead_kind.to_numpy() == 3) & (p.lead_t.to_numpy() != NEVER))
    staff = p.staff.to_numpy()[who]
    for i, text in enumerate(CONSULT_TEXTS):
        t = p.lead_t.to_numpy()[who] - 2 * MIN_MS + i * 40_000
        if i % 2 == 0:
            parts.append(pd.DataFrame({"from_kind": "member", "from_idx": who, "to_staff": staff, "msgtime": t, "text": text}))
        else:
            parts.append(pd.DataFrame({"from_kind": "staff", "from_idx": staff, "to_person": who, "msgtime": t, "text": text}))
    d = pd.concat(parts, ignore_index=True)
    d["room"], d["msgtype"], d["url"], d["title"] = -1, "text", None, None
    return d
