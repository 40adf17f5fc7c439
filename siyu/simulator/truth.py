"""Ground truth under `_truth/`, computed from the records actually written (never from the
plan), so a correct warehouse can be checked against it exactly.

* identifiers.csv — person_id, kind, value (openid as `appid:openid`, phone normalised);
* people.csv — one row per person that appears in the data;
* funnel.csv — contracts §5 ordered funnel (window 30 days) over tracking + derived events;
* groups.csv — per group: owner, creation, lifetime plan, dissolution, last member message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .campaigns import ACQ_CHANNELS, Catalog
from .config import APP_LIST, CHANNELS, DAY_MS, EVENT_CODE, FUNNEL_WINDOW_DAYS, OPEN_RATES, Calendar
from .groups import Groups
from .messages import Messages
from .people import NEVER
from .tracking import ID_EXTERNAL, ID_OPENID, ID_PHONE, ID_UNIONID

STAGE_EVENTS = {
    "exposure": ("content_impression", "push_delivered", "moments_impression", "live_view"),
    "interest": ("push_opened", "article_read", "link_click", "miniprogram_visit", "product_view", "share"),
    "lead": ("coupon_claim", "form_submit", "appointment_booked", "consultation"),
}


# Identifier slots of a person: each person has exactly one value per slot.
SLOTS = (("distinct_id", "distinct_id", ""), ("unionid", "unionid", ""), ("openid", "openid_mp", APP_LIST[1]),
         ("openid", "openid_sub", APP_LIST[2]), ("openid", "openid_svc", APP_LIST[3]),
         ("external_userid", "external_userid", ""), ("phone", "phone", ""))
DISTINCT, UNION, OPEN_MP, OPEN_SUB, OPEN_SVC, EXTERNAL, PHONE = range(len(SLOTS))


def identifiers(p: pd.DataFrame, ev: pd.DataFrame, contact_entries: pd.DataFrame, followers: pd.DataFrame,
                G: Groups, orders: pd.DataFrame) -> pd.DataFrame:
    """(person, person_id, kind, value) for every identifier carried by a written, linking record.

    Collected as a person x slot boolean matrix first (cheap at tens of millions of
    events), then turned into strings once."""
    seen = np.zeros((len(p), len(SLOTS)), dtype=bool)
    ids, app, person = ev.ids.to_numpy(), ev.app.to_numpy(), ev.person.to_numpy()
    seen[person, DISTINCT] = True
    seen[person[(ids & ID_UNIONID) != 0], UNION] = True
    for code, slot in ((1, OPEN_MP), (2, OPEN_SUB), (3, OPEN_SVC)):
        seen[person[((ids & ID_OPENID) != 0) & (app == code)], slot] = True
    seen[person[(ids & ID_EXTERNAL) != 0], EXTERNAL] = True
    seen[person[(ids & ID_PHONE) != 0], PHONE] = True
    cp = contact_entries.person.to_numpy()
    seen[cp, EXTERNAL] = seen[cp, UNION] = True
    seen[cp[contact_entries.mobile.notna().to_numpy()], PHONE] = True
    sp = G.members.person.to_numpy()[np.unique(G.snap_member)]
    seen[sp, EXTERNAL] = seen[sp, UNION] = True
    fp, fa = followers.person.to_numpy(), followers.app.to_numpy()
    seen[fp, UNION] = True
    seen[fp[fa == 2], OPEN_SUB] = True
    seen[fp[fa == 3], OPEN_SVC] = True
    op = orders.person.to_numpy()
    seen[op[orders.buyer_phone.notna().to_numpy() & orders.shared_phone.isna().to_numpy()], PHONE] = True
    seen[op[orders.buyer_openid.notna().to_numpy()], OPEN_MP] = True
    seen[op[orders.buyer_unionid.notna().to_numpy()], UNION] = True
    who, slot = np.nonzero(seen)  # row-major: sorted by person, then slot
    values = np.empty(len(who), dtype=object)
    kinds = np.empty(len(who), dtype=object)
    for i, (kind, col, appid) in enumerate(SLOTS):
        sel = slot == i
        kinds[sel] = kind
        values[sel] = (appid + ":" + p[col].to_numpy()[who[sel]]) if appid else p[col].to_numpy()[who[sel]]
    return pd.DataFrame({"person": who, "person_id": p.person_id.to_numpy()[who], "kind": kinds, "value": values})


def _sec(t: pd.Series | np.ndarray) -> np.ndarray:
    """Truncate to whole seconds: the precision of the records derived events come from."""
    return (np.asarray(t) // 1000) * 1000


def funnel(ev: pd.DataFrame, contact_entries: pd.DataFrame, followers: pd.DataFrame, G: Groups,
           orders: pd.DataFrame, person_ids: np.ndarray) -> pd.DataFrame:
    """Ordered funnel per person with an exposure (epoch ms; derived events at the
    second precision their source records carry)."""
    stage_of = np.full(len(EVENT_CODE), -1)
    for s, (stage, names) in enumerate(STAGE_EVENTS.items()):
        stage_of[[EVENT_CODE[e] for e in names]] = s
    observed = G.members.iloc[np.unique(G.snap_member)]
    paid = orders[orders.paid_t.to_numpy() != NEVER]
    ev_all = pd.concat([
        pd.DataFrame({"person": ev.person.to_numpy(), "stage": stage_of[ev.ev.to_numpy()], "t": ev.t.to_numpy()}),
        pd.DataFrame({"person": followers.person[followers.subscribe == 1], "stage": 1,
                      "t": _sec(followers.t[followers.subscribe == 1])}),
        pd.DataFrame({"person": contact_entries.person, "stage": 1, "t": _sec(contact_entries.createtime)}),
        pd.DataFrame({"person": observed.person, "stage": 1, "t": _sec(observed.join_t)}),
        pd.DataFrame({"person": paid.person, "stage": 3, "t": _sec(paid.paid_t)}),
    ], ignore_index=True)
    window = FUNNEL_WINDOW_DAYS * DAY_MS
    reached = ev_all[ev_all.stage == 0].groupby("person").t.min().rename("exposure_at").to_frame()
    prev = "exposure_at"
    for s, col in ((1, "interest_at"), (2, "lead_at"), (3, "deal_at")):
        cols = list(dict.fromkeys(["exposure_at", prev]))
        cand = ev_all[ev_all.stage == s].merge(reached[cols].rename_axis(None), left_on="person", right_index=True)
        cand = cand[(cand.t >= cand[prev]) & (cand.t <= cand.exposure_at + window)]
        reached[col] = cand.groupby("person").t.min()
        prev = col
    reached = reached.sort_index()
    out = pd.DataFrame({"person_id": person_ids[reached.index.to_numpy()]})
    for col in ("exposure_at", "interest_at", "lead_at", "deal_at"):
        out[col] = pd.array(reached[col].to_numpy(), dtype="Int64")
    return out


def groups_table(cal: Calendar, cat: Catalog, G: Groups, M: Messages) -> pd.DataFrame:
    """Per group: settings and the observed last member message (not recalled, not staff/bot)."""
    g = G.groups
    msgs = M.msgs
    recalled = np.isin(msgs.msg.to_numpy(), msgs.pre_msg.to_numpy()[msgs.action.to_numpy() == "recall"])
    mm = msgs[(msgs.from_kind == "member") & (msgs.action == "send") & (msgs.room >= 0) & ~recalled]
    day = cal.day_of(mm.msgtime.to_numpy())
    age = day - g.create_day.to_numpy()[mm.room.to_numpy()]
    last = pd.Series(day).groupby(mm.room.to_numpy()).max()
    late_msgs = pd.Series(age >= 7).groupby(mm.room.to_numpy()).sum()
    n_msgs = pd.Series(day).groupby(mm.room.to_numpy()).size()
    out = pd.DataFrame({
        "chat_id": g.chat_id, "name": g.name, "owner": cat.staff[g.owner.to_numpy()],
        "create_date": [cal.date(d).isoformat() for d in g.create_day], "create_time": g.create_t // 1000,
        "lively": g.lively, "planned_lifetime_days": g.planned_life_days.where(g.planned_life_days != NEVER).astype("Int64"),
        "dissolved_date": [cal.date(d).isoformat() if d != NEVER else None for d in g.dissolve_day],
    })
    idx = np.arange(len(g))
    last_day = last.reindex(idx).to_numpy()
    out["last_member_message_date"] = [cal.date(int(d)).isoformat() if not np.isnan(d) else None for d in last_day]
    out["member_messages"] = n_msgs.reindex(idx).fillna(0).astype(np.int64).to_numpy()
    out["member_messages_from_day7"] = late_msgs.reindex(idx).fillna(0).astype(np.int64).to_numpy()
    out["observable_day7"] = g.create_day.to_numpy() + 7 <= cal.days - 1
    observed = G.members.iloc[np.unique(G.snap_member)]
    out["joins"] = observed.groupby("chat").size().reindex(idx).fillna(0).astype(np.int64).to_numpy()
    return out


def push_counts(ev: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(push_delivered, push_opened) events per pushing channel."""
    out = {}
    for ch in OPEN_RATES:
        sel = ev.ch.to_numpy() == CHANNELS.index(ch)
        out[ch] = (int((sel & (ev.ev.to_numpy() == EVENT_CODE["push_delivered"])).sum()),
                   int((sel & (ev.ev.to_numpy() == EVENT_CODE["push_opened"])).sum()))
    return out


def open_rates(counts: dict[str, tuple[int, int]]) -> dict[str, float | None]:
    """Realised push_opened / push_delivered per pushing channel."""
    return {ch: round(opened / deliv, 4) if deliv else None for ch, (deliv, opened) in counts.items()}


def people_table(p: pd.DataFrame, cat: Catalog, ident: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """People that appear in the data, with their acquisition and purchase facts."""
    n_ids = np.bincount(ident.person.to_numpy(), minlength=len(p))
    acq = p.acq.to_numpy()
    channel = np.where(acq >= 0, np.array([c[0] for c in ACQ_CHANNELS], dtype=object)[np.maximum(acq, 0)], "wecom_group")
    camp = p.campaign.to_numpy()
    paid = orders[orders.paid_t.to_numpy() != NEVER]
    n_paid = np.bincount(paid.person.to_numpy(), minlength=len(p))
    out = pd.DataFrame({
        "person_id": p.person_id, "wechat": p.wechat, "invited_by_member": p.fission,
        "acquisition_channel": channel,
        "acquisition_campaign_id": np.where(camp >= 0, cat.campaigns.campaign_id.to_numpy()[np.maximum(camp, 0)], None),
        "paid_orders": n_paid,
        "identifiers": n_ids,
    })
    return out[n_ids > 0].reset_index(drop=True)



class TruthWriter:
    """Writes the `_truth/` tables block by block (people, their identifiers and funnel,
    and the block's groups are appended in person / group order) and keeps the running
    totals the realism summary needs."""

    FILES = ("identifiers.csv", "people.csv", "funnel.csv", "groups.csv")

    def __init__(self, tdir: Path, cal: Calendar, cat: Catalog) -> None:
        self.tdir, self.cal, self.cat = tdir, cal, cat
        tdir.mkdir(parents=True, exist_ok=True)
        self._started: set[str] = set()
        self.totals = {"people": 0, "identifiers": 0, "groups": 0, "groups_observable_day7": 0, "silent_observable": 0,
                       "paid_orders": 0, "repeat_buyers": 0}
        self.stages = {s: 0 for s in ("exposure", "interest", "lead", "deal")}
        self.pushes = {ch: (0, 0) for ch in OPEN_RATES}

    def _write(self, name: str, df: pd.DataFrame) -> None:
        first = name not in self._started
        self._started.add(name)
        df.to_csv(self.tdir / name, index=False, header=first, mode="w" if first else "a", lineterminator="\n")

    def add_block(self, people: pd.DataFrame, ev: pd.DataFrame, c_entries: pd.DataFrame, followers: pd.DataFrame,
                  G: Groups, M: Messages, orders: pd.DataFrame, order_rows: pd.DataFrame) -> None:
        """One member block; `order_rows` are its export rows (before malformed copies)."""
        written_orders = orders[orders.order_no.isin(order_rows.order_no)]
        ident = identifiers(people, ev, c_entries, followers, G, written_orders)
        self._write("identifiers.csv", ident.drop(columns="person"))
        ppl = people_table(people, self.cat, ident, written_orders)
        self._write("people.csv", ppl)
        fun = funnel(ev, c_entries, followers, G, written_orders, people.person_id.to_numpy())
        self._write("funnel.csv", fun)
        grp = groups_table(self.cal, self.cat, G, M)
        self._write("groups.csv", grp)
        obs = grp[grp.observable_day7]
        t = self.totals
        t["people"] += len(ppl)
        t["identifiers"] += len(ident)
        t["groups"] += len(grp)
        t["groups_observable_day7"] += len(obs)
        t["silent_observable"] += int((obs.member_messages_from_day7 == 0).sum())
        t["paid_orders"] += int((written_orders.paid_t >= 0).sum())
        t["repeat_buyers"] += int((ppl.paid_orders >= 2).sum())
        for c in self.stages:
            self.stages[c] += int(fun[f"{c}_at"].notna().sum())
        for ch, (deliv, opened) in push_counts(ev).items():
            d0, o0 = self.pushes[ch]
            self.pushes[ch] = (d0 + deliv, o0 + opened)
