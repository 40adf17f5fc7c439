"""Deliberate imperfections of real exports: late and re-sent tracking events, and a small
share of malformed records (always extra copies, so the truth is unaffected by them).

Malformed kinds per source (each an extra line at the end of the partition file of the record it copies):
* truncated_json / truncated_row — the line cut short (never parseable);
* missing_id — the record's required id key removed (order_no left empty in CSV);
* unknown_event / unknown_channel / unknown_action / unknown_status — a value outside the
  contract's enumeration (the copy also gets a distinct id so it can never pass as a
  duplicate of the original).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from .config import DUPLICATE_RATE, LATE_RATE, MALFORMED_RATE, Calendar

TRUNCATE = "left(line, (length(line) * 0.6)::INTEGER)"


def _sub(pattern: str, replacement: str) -> str:
    return f"regexp_replace(line, '{pattern}', '{replacement}')"


MALFORMED_SQL: dict[str, dict[str, str]] = {
    "tracking": {
        "truncated_json": TRUNCATE,
        "missing_id": _sub('"event_id":"[^"]*",', ""),
        "unknown_event": _sub('"event_id":"ev-', '"event_id":"ev-bad').replace(
            "line", _sub('"event":"[^"]*"', '"event":"page_leave"'), 1),
        "unknown_channel": _sub('"event_id":"ev-', '"event_id":"ev-bad').replace(
            "line", _sub('"channel":"[^"]*"', '"channel":"tiktok_ads"'), 1),
    },
    "wecom_messages": {
        "truncated_json": TRUNCATE,
        "missing_id": _sub('"msgid":"[^"]*",', ""),
        "unknown_action": _sub('"msgid":"m', '"msgid":"mbad').replace("line", _sub('"action":"[a-z]*"', '"action":"edit"'), 1),
    },
    "wecom_contacts": {"truncated_json": TRUNCATE, "missing_id": _sub('"external_userid":"[^"]*",', "")},
    "oa_followers": {"truncated_json": TRUNCATE, "missing_id": _sub('"openid":"[^"]*",', "")},
}
ORDER_KINDS = ("truncated_row", "missing_id", "unknown_status")


def _pick(rng: np.random.Generator, n: int, kinds: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(n, int(rng.binomial(n, MALFORMED_RATE)))
    rows = np.sort(rng.choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
    return rows, rng.integers(0, kinds, size=k)


def add_malformed(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, source: str) -> dict[str, int]:
    """Create bad_<source>(day, seq, line): malformed copies of random lines of
    lines_<source>, in the same partition (the writer appends them to that day's file)."""
    kinds = MALFORMED_SQL[source]
    n = con.execute(f"SELECT count(*) FROM lines_{source}").fetchall()[0][0]
    rows, kind = _pick(rng, n, len(kinds))
    con.register("bad", pd.DataFrame({"seq": rows * 2, "kind": kind}))
    cases = " ".join(f"WHEN {i} THEN {sql}" for i, sql in enumerate(kinds.values()))
    con.execute(f"""CREATE OR REPLACE TABLE bad_{source} AS SELECT l.day, l.seq + 1 AS seq, CASE b.kind {cases} END AS line
                    FROM lines_{source} l JOIN bad b ON b.seq = l.seq""")
    con.unregister("bad")
    return {name: int((kind == i).sum()) for i, name in enumerate(kinds)}


def malformed_orders(rng: np.random.Generator, rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Extra malformed order rows (seq odd, right after their original); `cut` marks
    rows the writer cuts short."""
    pick, kind = _pick(rng, len(rows), len(ORDER_KINDS))
    bad = rows.iloc[pick].copy()
    bad["seq"] = bad.seq + 1
    bad["cut"] = kind == 0
    bad.loc[kind == 1, "order_no"] = None
    bad.loc[kind == 2, "status"] = "TRADE_FINISHED"
    bad.loc[kind == 2, "order_no"] = bad.loc[kind == 2, "order_no"] + "-BAD"
    out = pd.concat([rows.assign(cut=False), bad]).sort_values("seq", kind="stable").reset_index(drop=True)
    return out, {name: int((kind == i).sum()) for i, name in enumerate(ORDER_KINDS)}


def late_and_duplicates(rng: np.random.Generator, cal: Calendar, ev: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Assign partitions: the event's business day, 1-3 days later for ~1.5 % (late
    uploads from devices that were offline), plus ~0.1 % exact re-sends (same event_id)
    in the partition of the event's business day or the next. Returns (events, late count, duplicate count)."""
    day = cal.day_of(ev.t.to_numpy())
    late_day = day + rng.integers(1, 4, size=len(ev))
    late = (rng.random(len(ev)) < LATE_RATE) & (late_day < cal.days)
    ev = ev.assign(day=np.where(late, late_day, day), late=late)
    dup_day = day + rng.integers(0, 2, size=len(ev))
    dup = (rng.random(len(ev)) < DUPLICATE_RATE) & (dup_day < cal.days)
    copies = ev[dup].assign(day=dup_day[dup], late=False)
    # Within a partition: on-time events by time, late arrivals and re-sends appended at the end.
    out = pd.concat([ev, copies.assign(resent=True)], ignore_index=True)
    out["resent"] = out.resent.fillna(False).astype(bool)
    out = out.sort_values(["day", "late", "resent", "t", "event_id"], kind="stable").reset_index(drop=True)
    return out.assign(seq=np.arange(len(out)) * 2), int(late.sum()), int(dup.sum())
