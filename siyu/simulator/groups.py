"""Customer groups (社群): creation, lifetimes, joins/leaves/rejoins, invites, snapshots.

Most groups are launched for a campaign, fill up in their first week and then fall
silent; about one in ten is a lively community that keeps recruiting. Memberships are
intervals; a daily snapshot lists the memberships open at the end of that business day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .campaigns import Catalog
from .config import DAY_MS, HOUR_MS, Calendar
from .ids import Taken, tokens
from .people import NEVER

LIVELY_SHARE = 0.06
INF = np.iinfo(np.int64).max
NAMES = ("沙发焕新", "卧室焕新", "全屋定制", "餐厅好物", "床垫体验", "旧房翻新", "会员专享", "新品尝鲜")
# join_scene: 1 invited by someone, 2 via a group link, 3 via the group QR code.
SCENE_INVITED, SCENE_LINK, SCENE_QR = 1, 2, 3


@dataclass(frozen=True)
class Groups:
    groups: pd.DataFrame       # one row per group, index = group number
    members: pd.DataFrame      # one row per membership interval (join .. end)
    snap_day: np.ndarray       # snapshot rows: business day ...
    snap_member: np.ndarray    # ... and membership row present at the end of that day


def make_groups(rng: np.random.Generator, cal: Calendar, cat: Catalog, people: pd.DataFrame, first: int = 0,
                taken: Taken | None = None) -> Groups:
    """The groups of one member block (numbered from `first`; the first block's first two
    are the brand's established communities) and the memberships of that block's people:
    groups never mix blocks."""
    g = _make_group_table(rng, cal, cat, len(people), first, taken)
    m = _make_memberships(rng, cal, g, people)
    snap_day, snap_member = _explode_snapshots(cal, g, m)
    return Groups(g, m, snap_day, snap_member)


def _make_group_table(rng: np.random.Generator, cal: Calendar, cat: Catalog, members: int, first: int,
                      taken: Taken | None) -> pd.DataFrame:
    n = max(6, round(members * 0.011))
    established = 2 if first == 0 else 0  # the brand starts with two established communities
    day = np.sort(rng.integers(0, cal.days, size=n))
    day[:established] = 0
    create_t = cal.day_start(day) + 10 * HOUR_MS + rng.integers(0, 11 * HOUR_MS, size=n)
    order = np.argsort(create_t, kind="stable")
    day, create_t = day[order], create_t[order]
    lively = rng.random(n) < LIVELY_SHARE
    lively[:established] = True
    life = rng.integers(14, 46, size=n)
    dissolve = ~lively & (rng.random(n) < 0.5)
    dissolve_day = np.where(dissolve & (day + life < cal.days), day + life, NEVER)
    g = pd.DataFrame({
        "chat_id": tokens(rng, n, 22, "wr", taken=taken),
        "name": [f"{NAMES[i % len(NAMES)]}{i // len(NAMES) + 1}群" for i in range(first, first + n)],
        "owner": rng.integers(0, len(cat.staff), size=n),
        "assistant": np.where(rng.random(n) < 0.4, rng.integers(0, len(cat.staff), size=n), -1),
        "create_t": create_t,
        "create_day": day,
        "lively": lively,
        "planned_life_days": np.where(dissolve, life, NEVER),
        "dissolve_day": dissolve_day,
        "dissolve_t": np.where(dissolve_day != NEVER, cal.day_start(dissolve_day) - 3 * HOUR_MS, INF),
    })
    g.loc[g.assistant == g.owner, "assistant"] = -1
    return g


def _pick_group(rng: np.random.Generator, g: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """A group to join at time t: mostly one launched in the last week, else a lively one."""
    ct = g.create_t.to_numpy()
    lo, hi = np.searchsorted(ct, t - 7 * DAY_MS), np.searchsorted(ct, t)
    recent = lo + (rng.random(len(t)) * (hi - lo)).astype(np.int64)
    lively_idx = np.flatnonzero(g.lively.to_numpy())
    n_lively = np.searchsorted(ct[lively_idx], t)
    lively = np.append(lively_idx, -1)[np.minimum((rng.random(len(t)) * n_lively).astype(np.int64), len(lively_idx) - 1)]
    use_lively = ((rng.random(len(t)) < 0.3) | (hi == lo)) & (n_lively > 0)
    pick = np.where(use_lively, lively, np.where(hi > lo, recent, -1))
    alive = (pick >= 0) & (t < g.dissolve_t.to_numpy()[np.maximum(pick, 0)])
    return np.where(alive, pick, -1)


def _make_memberships(rng: np.random.Generator, cal: Calendar, g: pd.DataFrame, p: pd.DataFrame) -> pd.DataFrame:
    fission = p.fission.to_numpy()
    first_t = np.where(fission, p.acq_t.to_numpy(), p.group_t.to_numpy())
    who = np.flatnonzero(first_t != NEVER)
    # A fifth of contact joiners also join a second group later (bridges between groups).
    second = who[~fission[who] & (rng.random(len(who)) < 0.2)]
    second_t = first_t[second] + (7 * DAY_MS * rng.lognormal(0, 0.8, size=len(second))).astype(np.int64)
    person = np.concatenate([who, second[second_t < cal.t_end]])
    join_t = np.concatenate([first_t[who], second_t[second_t < cal.t_end]])
    chat = _pick_group(rng, g, join_t)
    m = pd.DataFrame({"chat": chat, "person": person, "join_t": join_t})
    m = m[m.chat >= 0].drop_duplicates(["chat", "person"]).sort_values(["chat", "join_t", "person"], kind="stable")
    m = m.reset_index(drop=True)
    _assign_scenes(rng, g, m, p, fission)

    lively = g.lively.to_numpy()[m.chat.to_numpy()]
    n = len(m)
    leaves = rng.random(n) < np.where(lively, 0.15, 0.25)
    leave_t = m.join_t.to_numpy() + rng.exponential(12 * DAY_MS, size=n).astype(np.int64) + HOUR_MS
    m["end_t"] = np.where(leaves & (leave_t < cal.t_end), leave_t, INF)
    # A quarter of leavers come back later through the group link or QR code: a new join.
    back = np.flatnonzero((m.end_t.to_numpy() != INF) & (rng.random(n) < 0.25))
    rejoin = m.iloc[back].copy()
    rejoin["join_t"] = rejoin.end_t.to_numpy() + rng.exponential(6 * DAY_MS, size=len(back)).astype(np.int64) + HOUR_MS
    rejoin["end_t"] = INF
    rejoin["scene"] = rng.choice([SCENE_LINK, SCENE_QR], size=len(back))
    rejoin["invitor_person"], rejoin["invitor_staff"] = -1, -1
    rejoin = rejoin[rejoin.join_t.to_numpy() < np.minimum(cal.t_end, g.dissolve_t.to_numpy()[rejoin.chat.to_numpy()])]
    m = pd.concat([m, rejoin], ignore_index=True)
    m["end_t"] = np.minimum(m.end_t.to_numpy(), g.dissolve_t.to_numpy()[m.chat.to_numpy()])
    return m.sort_values(["chat", "join_t", "person"], kind="stable").reset_index(drop=True)


def _assign_scenes(rng: np.random.Generator, g: pd.DataFrame, m: pd.DataFrame, p: pd.DataFrame, fission: np.ndarray) -> None:
    """join_scene and invitor: fission joiners are invited by an earlier member of the same
    group, picked in proportion to how much of a KOC that member is (a few invite many)."""
    n = len(m)
    chat, person = m.chat.to_numpy(), m.person.to_numpy()
    pos = np.arange(n)
    first_of_chat = np.r_[0, np.flatnonzero(np.diff(chat)) + 1]
    seg_start = first_of_chat[np.searchsorted(first_of_chat, pos, side="right") - 1]
    koc = p.koc.to_numpy()[person]
    cw = np.concatenate([[0.0], np.cumsum(koc)])
    target = cw[seg_start] + rng.random(n) * (cw[pos] - cw[seg_start])
    inviter_row = np.minimum(np.searchsorted(cw, target, side="right") - 1, np.maximum(pos - 1, 0))
    has_earlier = pos > seg_start
    u = rng.random(n)
    by_member = has_earlier & (fission[person] | (u < 0.15))
    by_staff = ~by_member & (u >= 0.15) & (u < 0.30)
    scene = np.where(by_member | by_staff, SCENE_INVITED, np.where(rng.random(n) < 0.45, SCENE_LINK, SCENE_QR))
    m["scene"] = scene
    m["invitor_person"] = np.where(by_member, person[inviter_row], -1)
    m["invitor_staff"] = np.where(by_staff, g.owner.to_numpy()[chat], -1)


def _explode_snapshots(cal: Calendar, g: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(day, membership) pairs: membership open at the end of the day, group not yet dissolved."""
    chat = m.chat.to_numpy()
    first = cal.day_of(m.join_t.to_numpy())
    end = m.end_t.to_numpy()
    last = np.where(end == INF, cal.days - 1, (end - cal.t0 - 1) // DAY_MS - 1)
    dd = g.dissolve_day.to_numpy()[chat]
    last = np.minimum(last, np.where(dd != NEVER, dd - 1, cal.days - 1))
    count = np.maximum(last - first + 1, 0)
    rows = np.repeat(np.arange(len(m)), count)
    day = first[rows] + np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    order = np.lexsort((m.join_t.to_numpy()[rows], chat[rows], day))
    return day[order], rows[order]
