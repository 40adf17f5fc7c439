"""File writers: one file per source and business day, byte-deterministic.

JSON Lines come out of DuckDB as Arrow string columns whose data buffers, with a newline
appended to every value, *are* the file content: a day's file is a few slice writes, no
per-row Python. Member blocks append their lines to the day files in block order (each
block's section in time order); the malformed copies of all blocks are held back and
appended at the very end of the file, once every block is written.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from siyu.landing.rules import ORDER_COLUMNS  # the export's header is the landing contract's

from .config import Calendar

JSONL_FILE = "part-0000.jsonl"


def _day_dir(root: Path, source: str, cal: Calendar, day: int) -> Path:
    d = root / source / f"dt={cal.date(day):%Y-%m-%d}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _day_slices(tbl: pa.Table, days: int) -> list[list[memoryview]]:
    """Per day, zero-copy views of the newline-terminated `line` text of a table sorted by day."""
    out: list[list[memoryview]] = [[] for _ in range(days)]
    for batch in tbl.to_batches():
        day = batch.column("day").to_numpy()
        lines = batch.column("line")
        if lines.type != pa.string():
            lines = lines.cast(pa.large_string())
        if len(lines) == 0:
            continue
        width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
        offsets = np.frombuffer(lines.buffers()[1], dtype=width)[lines.offset: lines.offset + len(lines) + 1]
        data = memoryview(lines.buffers()[2])
        bounds = np.searchsorted(day, np.arange(days + 1))
        for d in np.unique(day):
            out[d].append(data[offsets[bounds[d]]: offsets[bounds[d + 1]]])
    return out


def _fetch_sorted(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """(day, line + newline) in (day, seq) order. Tables built by a pure projection come
    back in insertion order, which is checked; anything else is sorted by DuckDB."""
    tbl = con.sql(f"SELECT day, seq, line || chr(10) AS line FROM {table}").to_arrow_table()
    day, seq = tbl.column("day").to_numpy(), tbl.column("seq").to_numpy()
    if len(tbl) > 1 and not (np.all(np.diff(day) >= 0) and np.all((np.diff(seq) > 0) | (np.diff(day) > 0))):
        tbl = con.sql(f"SELECT day, seq, line || chr(10) AS line FROM {table} ORDER BY day, seq").to_arrow_table()
    return tbl


class JsonlLanding:
    """The JSON Lines partition files of a run: created empty up front (so every partition
    exists), appended to block by block, closed with the held-back malformed lines."""

    def __init__(self, root: Path, cal: Calendar, sources: tuple[str, ...]) -> None:
        self.root, self.cal, self.sources = root, cal, sources
        self.rows = {s: 0 for s in sources}
        self._bad: dict[str, list[list[bytes]]] = {s: [[] for _ in range(cal.days)] for s in sources}
        for source in sources:
            for d in range(cal.days):
                (_day_dir(root, source, cal, d) / JSONL_FILE).write_bytes(b"")

    def append(self, con: duckdb.DuckDBPyConnection, source: str, with_bad: bool) -> int:
        """Append lines_<source> of this block to the day files; keep bad_<source> (its
        malformed copies) for `close`. Returns the lines of this block, both kinds."""
        main = _fetch_sorted(con, f"lines_{source}")
        n = len(main)
        for d, views in enumerate(_day_slices(main, self.cal.days)):
            if views:
                with open(self.root / source / f"dt={self.cal.date(d):%Y-%m-%d}" / JSONL_FILE, "ab") as f:
                    for view in views:
                        f.write(view)
        del main
        if with_bad:
            bad = _fetch_sorted(con, f"bad_{source}")
            n += len(bad)
            for d, views in enumerate(_day_slices(bad, self.cal.days)):
                self._bad[source][d] += [bytes(v) for v in views]
        self.rows[source] += n
        return n

    def close(self) -> dict[str, int]:
        """Append the malformed lines at the end of their partition files; rows per source."""
        for source, days in self._bad.items():
            for d, chunks in enumerate(days):
                if chunks:
                    with open(self.root / source / f"dt={self.cal.date(d):%Y-%m-%d}" / JSONL_FILE, "ab") as f:
                        f.write(b"".join(chunks))
        self._bad = {}
        return dict(self.rows)


def order_encodings(rng: np.random.Generator, cal: Calendar, rows: pd.DataFrame) -> list[str]:
    """Encoding of each day's orders export: UTF-8 mostly, some days with a BOM, some GBK
    (Excel re-saves on a Chinese Windows). The busiest day of each half of the window is
    forced to BOM / GBK so even small runs contain all three with real Chinese text."""
    enc = np.where(rng.random(cal.days) < 0.06, "utf-8-sig", np.where(rng.random(cal.days) < 0.06, "gbk", "utf-8"))
    per_day = np.bincount(rows.day.to_numpy(), minlength=cal.days)
    half = cal.days // 2
    if half >= 1:
        enc[int(np.argmax(per_day[:half]))] = "utf-8-sig"
        enc[half + int(np.argmax(per_day[half:]))] = "gbk"
    return [str(e) for e in enc]


def write_orders(root: Path, cal: Calendar, rows: pd.DataFrame, encodings: list[str]) -> int:
    """orders/dt=…/orders-YYYYMMDD.csv with the contract header; `cut` rows are truncated."""
    body = rows[list(ORDER_COLUMNS)].to_csv(header=False, index=False, lineterminator="\n")
    lines = pd.Series(body.split("\n")[:-1], dtype=object)
    lines[rows["cut"].to_numpy()] = lines[rows["cut"].to_numpy()].str.slice(0, 60)
    bounds = np.searchsorted(rows.day.to_numpy(), np.arange(cal.days + 1))
    header = ",".join(ORDER_COLUMNS) + "\n"
    for d in range(cal.days):
        chunk = lines.iloc[bounds[d]: bounds[d + 1]]
        text = header + "".join(chunk + "\n")
        path = _day_dir(root, "orders", cal, d) / f"orders-{cal.date(d):%Y%m%d}.csv"
        path.write_bytes(text.encode(encodings[d]))
    return len(rows)


def write_costs(root: Path, cal: Calendar, costs: pd.DataFrame) -> int:
    """campaign_costs/dt=…/costs.csv: `dt,campaign_id,channel,cost`."""
    dates = np.array([f"{cal.date(d):%Y-%m-%d}" for d in range(cal.days)], dtype=object)
    costs = costs.assign(dt=dates[costs.day.to_numpy()], cost=np.char.mod("%.2f", costs.cost.to_numpy()))
    bounds = np.searchsorted(costs.day.to_numpy(), np.arange(cal.days + 1))
    for d in range(cal.days):
        part = costs.iloc[bounds[d]: bounds[d + 1]][["dt", "campaign_id", "channel", "cost"]]
        (_day_dir(root, "campaign_costs", cal, d) / "costs.csv").write_text(
            part.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return len(costs)
