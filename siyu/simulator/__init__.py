"""Deterministic simulator of a private-domain landing folder (contracts §3) with ground truth.

    simulate(out_dir, members=10_000, days=90, start=date(2026, 8, 1), seed=42) -> summary

writes `out_dir/<source>/dt=YYYY-MM-DD/<file>` for the seven landing sources and the truth
under `out_dir/_truth/`.

It streams: people are generated in member blocks of about BLOCK_PERSON_DAYS person-days
(one block up to ~33,000 members at 90 days, 100,000 at 30 days). A block owns its people,
their groups (with memberships, snapshots and messages), events, contacts, followers and
orders; it is rendered, appended to the partition files and to `_truth/`, and freed before
the next, so memory depends on the block size, not on `members`. What spans blocks is
small and kept: the catalog (campaigns, stores, staff), the identifier registry (no two
blocks draw the same id), event-id and group-number offsets, order running numbers, the
malformed lines (appended at the end of their files) and the order export rows (their
day encodings need the whole window). Randomness: one `numpy.random.Generator` for the
brand-wide draws and one per block, all derived from `seed` by `SeedSequence`, so the
same arguments always produce byte-identical files.
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
from .config import (
    APPIDS,
    CLICK_RATES,
    DUPLICATE_RATE,
    FUNNEL_WINDOW_DAYS,
    LATE_RATE,
    MALFORMED_RATE,
    OPEN_RATES,
    STORE_LANDLINE,
    TEST_PHONE,
    Calendar,
)
from .contacts import make_contacts, make_followers, phone_styles
from .groups import make_groups
from .ids import Taken, phone_spelling, tokens
from .messages import make_messages
from .orders import PLATFORMS, make_orders
from .people import make_people
from .tracking import ID_PHONE, make_tracking

__all__ = ["simulate"]

# Person-days per member block: ~0.3 tracking events each, so ~1 M events (~1 GB peak) a block.
BLOCK_PERSON_DAYS = 3_000_000
MIN_BLOCK_MEMBERS = 5_000  # blocks stay big enough for their groups to fill up like the brand's
JSONL_SOURCES = ("tracking", "wecom_contacts", "wecom_groups", "wecom_messages", "oa_followers")


def member_blocks(members: int, days: int, block_members: int | None = None) -> list[tuple[int, int]]:
    """(first person, people) of each block: as few blocks of even size as keep each within
    BLOCK_PERSON_DAYS (give or take a person), none under MIN_BLOCK_MEMBERS people."""
    if block_members:
        n = -(-members // block_members)
    else:
        n = min(-(-members * days // BLOCK_PERSON_DAYS), members // MIN_BLOCK_MEMBERS)
    n = max(1, n)
    edges = [members * i // n for i in range(n + 1)]
    return [(lo, hi - lo) for lo, hi in zip(edges, edges[1:])]


def _stream(seed: int, *key: int) -> np.random.Generator:
    """Independent random stream `key` of a run: (0,) brand-wide, (1, b) member block b."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


class _Shared:
    """What member blocks hand on to each other."""

    def __init__(self, cal: Calendar) -> None:
        self.taken = Taken()
        self.events = 0
        self.groups = 0
        self.order_numbers = np.zeros((len(PLATFORMS), cal.days), dtype=np.int64)


def simulate(out_dir: Path, members: int = 10_000, days: int = 90, start: date = date(2026, 8, 1), seed: int = 42,
             progress: bool = True, *, block_members: int | None = None) -> dict:
    """Write a landing folder and its ground truth; return a summary (rows per source, seconds).

    `block_members` overrides the block size (people per member block; tests use small
    blocks to exercise several). The output depends on it, as on every other argument."""
    if members < 50 or days < 1:
        raise ValueError("simulate needs at least 50 members and 1 day")
    if block_members is not None and block_members < 50:
        raise ValueError("a member block needs at least 50 members")
    t_start = time.perf_counter()
    out = Path(out_dir)
    log = _logger(progress, t_start)
    rng = _stream(seed, 0)
    cal = Calendar(start, days)

    cat = make_catalog(rng, cal, members)
    costs = campaign_costs(rng, cat)
    shared = _Shared(cal)
    bot_ids = tokens(rng, 3, 20, "wb", taken=shared.taken)
    landing = writers.JsonlLanding(out, cal, JSONL_SOURCES)
    tw = truth.TruthWriter(out / "_truth", cal, cat)
    blocks = member_blocks(members, days, block_members)
    order_parts: list[pd.DataFrame] = []
    malformed = {s: dict.fromkeys(k, 0) for s, k in defects.MALFORMED_SQL.items()}
    n_late = n_dup = 0
    for b, (first, n) in enumerate(blocks):
        rows, bad, late, dup = _block(_stream(seed, 1, b), cal, cat, first, n, shared, bot_ids, landing, tw)
        order_parts.append(rows)
        n_late, n_dup = n_late + late, n_dup + dup
        for source, kinds in bad.items():
            for kind, k in kinds.items():
                malformed[source][kind] += k
        log(f"block {b + 1}/{len(blocks)}: people {first:,}..{first + n - 1:,}, {shared.events:,} events so far")
    rows_out = landing.close()

    order_rows = pd.concat(order_parts, ignore_index=True)
    order_rows = order_rows.sort_values("day", kind="stable").reset_index(drop=True)
    order_rows, malformed["orders"] = defects.malformed_orders(rng, order_rows.assign(seq=np.arange(len(order_rows)) * 2))
    encodings = writers.order_encodings(rng, cal, order_rows)
    rows_out["orders"] = writers.write_orders(out, cal, order_rows, encodings)
    rows_out["campaign_costs"] = writers.write_costs(out, cal, costs)

    summary = _write_summary(members, cal, tw, order_rows, rows_out, malformed, n_late, n_dup, encodings, seed)
    summary["seconds"] = round(time.perf_counter() - t_start, 2)
    (out / "_truth" / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    log(f"done in {summary['seconds']} s")
    return summary


def _block(rng: np.random.Generator, cal: Calendar, cat: Catalog, first: int, n: int, shared: _Shared,
           bot_ids: np.ndarray, landing: writers.JsonlLanding, tw: truth.TruthWriter
           ) -> tuple[pd.DataFrame, dict[str, dict[str, int]], int, int]:
    """Generate, render and write one member block. Returns (its order export rows,
    malformed counts per source and kind, late events, duplicate events)."""
    people = make_people(rng, n, cal, cat, first=first, taken=shared.taken)
    G = make_groups(rng, cal, cat, people, first=shared.groups, taken=shared.taken)
    shared.groups += len(G.groups)
    M = make_messages(rng, cal, G, people, bot_ids, shared.taken)
    ev = make_tracking(rng, cal, cat, people, G, M, first_event=shared.events)
    shared.events += len(ev)
    c_lines, c_entries = make_contacts(rng, cal, cat, people)
    followers = make_followers(rng, cal, cat, people)
    phone_linked = np.zeros(n, dtype=bool)
    phone_linked[ev.person.to_numpy()[(ev.ids.to_numpy() & ID_PHONE) != 0]] = True
    phone_linked[c_entries.person.to_numpy()[c_entries.mobile.notna().to_numpy()]] = True
    order_rows, orders = make_orders(rng, cal, cat, people, G, phone_linked, shared.order_numbers)
    tw.add_block(people, ev, c_entries, followers, G, M, orders, order_rows)
    del orders, phone_linked

    ev_out, n_late, n_dup = defects.late_and_duplicates(rng, cal, ev)
    del ev
    ev_out["phone"] = _event_phones(rng, people, ev_out)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    render.register_dimensions(con, people, cat, G)
    render.register_snapshots(con, G)
    malformed: dict[str, dict[str, int]] = {}

    def flush(source: str) -> None:
        """Add the malformed copies of a rendered source, append it to the files, free it."""
        if source in defects.MALFORMED_SQL:
            malformed[source] = defects.add_malformed(con, rng, source)
        landing.append(con, source, source in defects.MALFORMED_SQL)
        con.execute(f"DROP TABLE lines_{source}")
        con.execute(f"DROP TABLE IF EXISTS bad_{source}")

    render.render_tracking(con, render.tracking_arrow(ev_out, people, cat, G))
    del ev_out
    flush("tracking")
    render.render_contacts(con, _partitioned(cal, c_lines, "t"), c_entries)
    flush("wecom_contacts")
    render.render_groups(con, cal, G)
    flush("wecom_groups")
    render.render_messages(con, _partitioned(cal, M.msgs, "msgtime"))
    flush("wecom_messages")
    render.render_followers(con, _partitioned(cal, followers, "t"))
    flush("oa_followers")
    con.close()
    return order_rows, malformed, n_late, n_dup


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


def _write_summary(members: int, cal: Calendar, tw: truth.TruthWriter, order_rows: pd.DataFrame, rows: dict[str, int],
                   malformed: dict[str, dict[str, int]], n_late: int, n_dup: int, encodings: list[str], seed: int) -> dict:
    """Write `_truth/settings.json` (the truth tables are written block by block) and
    return the realism summary."""
    versions = order_rows[~order_rows["cut"] & order_rows.order_no.notna()]
    versions = versions[~versions.order_no.str.endswith("-BAD")]
    resent = versions.groupby("order_no").size()
    t = tw.totals
    settings = {
        "members": members, "days": cal.days, "start": cal.start.isoformat(), "seed": seed,
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
    (tw.tdir / "settings.json").write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    obs = t["groups_observable_day7"]
    return {
        "rows": rows, "malformed": settings["malformed_total"], "late_events": n_late, "duplicate_events": n_dup,
        "people": t["people"], "identifiers": t["identifiers"],
        "open_rates_realised": truth.open_rates(tw.pushes),
        "groups": t["groups"], "groups_observable_day7": obs,
        "share_groups_silent_after_day7": round(t["silent_observable"] / obs, 4) if obs else None,
        "funnel": dict(tw.stages),
        "paid_orders": t["paid_orders"],
        "repeat_buyers": t["repeat_buyers"],
    }
