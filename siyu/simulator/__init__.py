"""Deterministic simulator of a private-domain landing folder (DESIGN §3) with ground truth.

    simulate(out_dir, members=10_000, days=90, start=date(2026, 8, 1), seed=42) -> summary

writes `out_dir/<source>/dt=YYYY-MM-DD/<file>` for the seven landing sources and the truth
under `out_dir/_truth/`. Everything is drawn from one `numpy.random.Generator(seed)` in a
fixed order, so the same arguments always produce byte-identical files.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from . import defects, render, truth, writers
from .campaigns import Catalog, campaign_costs, make_catalog
from .config import (APPIDS, CLICK_RATES, DUPLICATE_RATE, FUNNEL_WINDOW_DAYS, LATE_RATE, MALFORMED_RATE, OPEN_RATES,
                     STORE_LANDLINE, TEST_PHONE, Calendar)
from .contacts import make_contacts, make_followers, phone_styles
from .groups import Groups, make_groups
from .ids import phone_spelling
from .messages import Messages, make_messages
from .orders import make_orders
from .people import make_people
from .tracking import ID_PHONE, make_tracking

__all__ = ["simulate"]


def simulate(out_dir: Path, members: int = 10_000, days: int = 90, start: date = date(2026, 8, 1), seed: int = 42,
             progress: bool = True) -> dict:
    """Write a landing folder and its ground truth; return a summary (rows per source, seconds)."""
    if members < 50 or days < 1:
        raise ValueError("simulate needs at least 50 members and 1 day")
    t_start = time.perf_counter()
    out = Path(out_dir)
    log = _logger(progress, t_start)
    rng = np.random.default_rng(seed)
    cal = Calendar(start, days)

    cat = make_catalog(rng, cal, members)
    people = make_people(rng, members, cal, cat)
    G = make_groups(rng, cal, cat, people)
    M = make_messages(rng, cal, G, people)
    ev = make_tracking(rng, cal, cat, people, G, M)
    c_lines, c_entries = make_contacts(rng, cal, cat, people)
    followers = make_followers(rng, cal, cat, people)
    phone_linked = np.zeros(members, dtype=bool)
    phone_linked[ev.person.to_numpy()[(ev.ids.to_numpy() & ID_PHONE) != 0]] = True
    phone_linked[c_entries.person.to_numpy()[c_entries.mobile.notna().to_numpy()]] = True
    order_rows, orders = make_orders(rng, cal, cat, people, G, phone_linked)
    costs = campaign_costs(rng, cat)
    log(f"generated {len(ev):,} events, {len(M.msgs):,} messages, {len(orders):,} orders")

    ev_out, n_late, n_dup = defects.late_and_duplicates(rng, cal, ev)
    ev_out["phone"] = _event_phones(rng, people, ev_out)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    render.register_dimensions(con, people, cat, G)
    render.register_snapshots(con, G)
    render.render_tracking(con, render.tracking_arrow(ev_out, people, cat, G))
    del ev_out
    render.render_followers(con, _partitioned(cal, followers, "t"))
    render.render_contacts(con, _partitioned(cal, c_lines, "t"), c_entries)
    render.render_groups(con, cal, G)
    render.render_messages(con, _partitioned(cal, M.msgs, "msgtime"))
    malformed = {s: defects.add_malformed(con, rng, s) for s in defects.MALFORMED_SQL}
    order_rows, malformed["orders"] = defects.malformed_orders(rng, order_rows.assign(seq=np.arange(len(order_rows)) * 2))
    log("rendered JSON")

    rows = {}
    for source in ("tracking", "wecom_contacts", "wecom_groups", "wecom_messages", "oa_followers"):
        rows[source] = writers.write_jsonl(con, out, source, cal, source in defects.MALFORMED_SQL)
        log(f"wrote {source}: {rows[source]:,} lines")
    encodings = writers.order_encodings(rng, cal, order_rows)
    rows["orders"] = writers.write_orders(out, cal, order_rows, encodings)
    rows["campaign_costs"] = writers.write_costs(out, cal, costs)
    con.close()

    summary = _write_truth(out, cal, cat, people, ev, c_entries, followers, G, M, orders, order_rows, rows,
                           malformed, n_late, n_dup, encodings, seed)
    summary["seconds"] = round(time.perf_counter() - t_start, 2)
    (out / "_truth" / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    log(f"done in {summary['seconds']} s")
    return summary


def _logger(progress: bool, t0: float) -> Callable[[str], None]:
    def log(msg: str) -> None:
        if progress:
            print(f"[simulate {time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)
    return log


def _partitioned(cal: Calendar, df: pd.DataFrame, time_col: str) -> pd.DataFrame:
    """Add the partition day (business date of the record) and file order `seq`."""
    out = df.assign(day=cal.day_of(df[time_col].to_numpy()))
    out = out.sort_values(["day", time_col], kind="stable").reset_index(drop=True)
    return out.assign(seq=np.arange(len(out)) * 2)


def _event_phones(rng: np.random.Generator, people: pd.DataFrame, ev: pd.DataFrame) -> np.ndarray:
    """The phone as typed on the events that carry one, in assorted spellings."""
    has = (ev.ids.to_numpy() & ID_PHONE) != 0
    out = np.full(len(ev), None, dtype=object)
    phones = people.phone.iloc[ev.person.to_numpy()[has]].reset_index(drop=True)
    out[has] = phone_spelling(phones, phone_styles(rng, int(has.sum()))).to_numpy()
    return out


def _write_truth(out: Path, cal: Calendar, cat: Catalog, people: pd.DataFrame, ev: pd.DataFrame,
                 c_entries: pd.DataFrame, followers: pd.DataFrame, G: Groups, M: Messages, orders: pd.DataFrame,
                 order_rows: pd.DataFrame, rows: dict[str, int], malformed: dict[str, dict[str, int]], n_late: int,
                 n_dup: int, encodings: list[str], seed: int) -> dict:
    """Write `_truth/` (see truth.py) and return the realism summary."""
    tdir = out / "_truth"
    tdir.mkdir(parents=True, exist_ok=True)
    written_orders = orders[orders.order_no.isin(order_rows.order_no)]
    ident = truth.identifiers(people, ev, c_entries, followers, G, written_orders)
    ident.drop(columns="person").to_csv(tdir / "identifiers.csv", index=False, lineterminator="\n")
    ppl = truth.people_table(people, cat, ident, written_orders)
    ppl.to_csv(tdir / "people.csv", index=False, lineterminator="\n")
    fun = truth.funnel(ev, c_entries, followers, G, written_orders, people.person_id.to_numpy())
    fun.to_csv(tdir / "funnel.csv", index=False, lineterminator="\n")
    grp = truth.groups_table(cal, cat, G, M)
    grp.to_csv(tdir / "groups.csv", index=False, lineterminator="\n")
    versions = order_rows[~order_rows["cut"] & order_rows.order_no.notna()]
    versions = versions[~versions.order_no.str.endswith("-BAD")]
    resent = versions.groupby("order_no").size()
    obs = grp[grp.observable_day7]
    settings = {
        "members": int(len(people)), "days": cal.days, "start": cal.start.isoformat(), "seed": seed,
        "timezone": "Asia/Shanghai", "funnel_window_days": FUNNEL_WINDOW_DAYS,
        "open_rates": OPEN_RATES, "click_rates": CLICK_RATES, "appids": APPIDS,
        "shared_phones": [TEST_PHONE, STORE_LANDLINE],
        "malformed_rate": MALFORMED_RATE, "malformed": malformed,
        "malformed_total": {s: sum(k.values()) for s, k in malformed.items()},
        "late_rate": LATE_RATE, "late_events": n_late,
        "duplicate_rate": DUPLICATE_RATE, "duplicate_events": n_dup,
        "resent_orders": int((resent > 1).sum()), "resent_order_rows": int((resent - 1).sum()),
        "orders_encoding_by_day": {cal.date(d).isoformat(): e for d, e in enumerate(encodings)},
    }
    (tdir / "settings.json").write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    stages = {c.replace("_at", ""): int(fun[c].notna().sum()) for c in ("exposure_at", "interest_at", "lead_at", "deal_at")}
    return {
        "rows": rows, "malformed": settings["malformed_total"], "late_events": n_late, "duplicate_events": n_dup,
        "people": int(len(ppl)), "identifiers": int(len(ident)),
        "open_rates_realised": truth.open_rates(ev),
        "groups": int(len(grp)), "groups_observable_day7": int(len(obs)),
        "share_groups_silent_after_day7": round(float((obs.member_messages_from_day7 == 0).mean()), 4) if len(obs) else None,
        "funnel": stages,
        "paid_orders": int((written_orders.paid_t >= 0).sum()),
        "repeat_buyers": int((ppl.paid_orders >= 2).sum()),
    }
