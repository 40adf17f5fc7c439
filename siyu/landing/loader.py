"""Load one landing partition of one source into the raw layer, quarantining what breaks the contract.

Reloading a partition replaces it (delete + insert in one transaction), so loads are
idempotent and order-independent. Per file, rows in = rows loaded + rows quarantined.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from . import rules
from .decoding import DecodedFile, Rejected, decode_csv, decode_jsonl
from .schema import QUARANTINE_DDL, RAW_TABLES

PARTITION_DIR = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")
EXTENSIONS = {"orders": ".csv", "campaign_costs": ".csv"}


@dataclass
class FileStats:
    file: str
    encoding: str
    rows_in: int = 0
    loaded: int = 0
    quarantined: int = 0
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class PartitionStats:
    source: str
    dt: date
    files: list[FileStats]
    fingerprint: str

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)


def extension(source: str) -> str:
    return EXTENSIONS.get(source, ".jsonl")


def discover_partitions(landing_dir: Path, source: str) -> dict[date, list[Path]]:
    """Day folders of a source and their data files; `_`- and `.`-prefixed entries are ignored."""
    root = Path(landing_dir) / source
    found: dict[date, list[Path]] = {}
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        match = PARTITION_DIR.match(folder.name)
        if not folder.is_dir() or not match:
            continue
        files = sorted(p for p in folder.iterdir()
                       if p.is_file() and not p.name.startswith(("_", ".")) and p.name.endswith(extension(source)))
        found[date.fromisoformat(match.group(1))] = files
    return found


def fingerprint(files: list[Path]) -> str:
    """Names, sizes and modification times: enough to notice a changed or new partition cheaply."""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for table, ddl in RAW_TABLES.items():
        con.execute(f"create table if not exists raw.{table} ({ddl})")
    con.execute(f"create table if not exists raw.quarantine ({QUARANTINE_DDL})")
    con.execute("""create table if not exists raw._load_log (
        source varchar, dt date, fingerprint varchar, files integer, rows_in bigint,
        loaded bigint, quarantined bigint, loaded_at timestamp, primary key (source, dt))""")


def loaded_fingerprints(con: duckdb.DuckDBPyConnection, source: str) -> dict[date, str]:
    rows = con.execute("select dt, fingerprint from raw._load_log where source = ?", [source]).fetchall()
    return {dt: fp for dt, fp in rows}


def _record_table(source: str, file_index: int, decoded: DecodedFile, stats: FileStats) -> pa.Table:
    """Arrow table of the decodable records of a file (all text), ready for the SQL rules."""
    n = len(decoded.lines)
    columns: dict[str, pa.Array] = {
        "file_index": pa.array([file_index] * n, pa.int32()),
        "line": pa.array(decoded.lines, pa.int64()),
        "text": pa.array(decoded.texts, pa.string()),
    }
    if source in rules.CSV_COLUMNS:
        header = decoded.header or []
        position = {name: i for i, name in enumerate(header)}
        stats.extra_columns = [h for h in header if h not in rules.CSV_COLUMNS[source]]
        missing = [c for c in rules.CSV_REQUIRED_COLUMNS[source] if c not in position]
        problem: list[str | None] = []
        for row in decoded.rows:
            if missing:
                problem.append("header lacks required column(s): " + ", ".join(missing))
            elif len(row) != len(header):
                problem.append(f"expected {len(header)} fields as in the header, got {len(row)}")
            else:
                problem.append(None)
        columns["csv_problem"] = pa.array(problem, pa.string())
        for name in rules.CSV_COLUMNS[source]:
            i = position.get(name)
            columns[name] = pa.array(
                [row[i] if i is not None and i < len(row) else None for row in decoded.rows], pa.string())
    return pa.table(columns)


def _check_sql(source: str, dt: date) -> tuple[str, list[str]]:
    spec = rules.RULES[source](dt)
    is_csv = source in rules.CSV_COLUMNS
    rule_list = ([("csv_problem is not null", "csv_problem")] if is_csv else []) + spec.rules
    reason = rules.reason_expression(rule_list)
    # Columns are extracted only for rows without a reason, so casts never fail on bad rows.
    cols = ",\n".join(f'case when reason is null then {expr} end as "out_{name.strip(chr(34))}"'
                       for name, expr in spec.columns.items())
    parsed = "records" if is_csv else "(select *, case when json_valid(text) then text::json end as j from records)"
    sql = f"""
        select * exclude (reason), reason from (
            select *, {cols}
            from (select *, {reason} as reason from {parsed})
        )"""
    return sql, list(spec.columns)


def load_partition(con: duckdb.DuckDBPyConnection, source: str, dt: date, files: list[Path],
                   landing_dir: Path) -> PartitionStats:
    """Replace partition `dt` of `source` in raw with what its files hold now."""
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    file_stats: list[FileStats] = []
    tables: list[pa.Table] = []
    rejected: list[tuple[int, Rejected]] = []
    for index, path in enumerate(files):
        decoded = decode_csv(path) if source in rules.CSV_COLUMNS else decode_jsonl(path)
        stats = FileStats(file=_relative(path, landing_dir), encoding=decoded.encoding,
                          rows_in=len(decoded.lines) + len(decoded.rejected))
        file_stats.append(stats)
        tables.append(_record_table(source, index, decoded, stats))
        rejected += [(index, r) for r in decoded.rejected]

    file_names = [s.file for s in file_stats]
    con.execute("begin transaction")
    try:
        con.execute(f"delete from raw.{source} where _dt = ?", [dt])
        con.execute("delete from raw.quarantine where source = ? and _dt = ?", [source, dt])
        if tables and sum(t.num_rows for t in tables):
            records = pa.concat_tables(tables)  # noqa: F841 — read by DuckDB's replacement scan
            sql, columns = _check_sql(source, dt)
            con.execute(f"create or replace temp table checked as {sql}")
            _quarantine_partition_duplicates(con, source)
            names = ", ".join(["_dt", "_file", "_line", "_loaded_at"] + columns)
            con.execute("create or replace temp table file_names as select unnest(?) as name, "
                        "generate_subscripts(?, 1) - 1 as file_index", [file_names, file_names])
            con.execute(f"""
                insert into raw.{source} ({names})
                select ?::date, f.name, c.line, ?::timestamp, {", ".join('c."out_' + c.strip('"') + '"' for c in columns)}
                from checked c join file_names f using (file_index)
                where c.reason is null
                order by c.file_index, c.line""", [dt, loaded_at])
            con.execute("""
                insert into raw.quarantine (source, file, line, reason, raw_text, loaded_at, _dt)
                select ?, f.name, c.line, c.reason, c.text, ?::timestamp, ?::date
                from checked c join file_names f using (file_index)
                where c.reason is not null
                order by c.file_index, c.line""", [source, loaded_at, dt])
            counts = dict(con.execute("""select file_index, count(*) filter (where reason is null)
                                          from checked group by file_index""").fetchall())
            for index, stats in enumerate(file_stats):
                stats.loaded = counts.get(index, 0)
        if rejected:
            con.executemany(
                "insert into raw.quarantine values (?, ?, ?, ?, ?, ?::timestamp, ?::date)",
                [[source, file_names[i], r.line, r.reason, r.raw_text, loaded_at, dt] for i, r in rejected])
        for stats in file_stats:
            stats.quarantined = stats.rows_in - stats.loaded
        result = PartitionStats(source, dt, file_stats, fingerprint(files))
        con.execute("delete from raw._load_log where source = ? and dt = ?", [source, dt])
        con.execute("insert into raw._load_log values (?, ?, ?, ?, ?, ?, ?, ?::timestamp)",
                    [source, dt, result.fingerprint, len(files), result.rows_in, result.loaded,
                     result.quarantined, loaded_at])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return result


def _quarantine_partition_duplicates(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Keys that must be unique within a partition: keep one copy, quarantine the others with a reason.

    Messages: the first copy (file, line) wins. Orders: the greatest updated_at wins, ties
    to the later line (DESIGN §3: the newest state of an order wins).
    """
    if source == "wecom_messages":
        key, order, what = "out_msgid", "file_index, line", "duplicate msgid"
    elif source == "orders":
        key, order, what = "out_order_no", "out_updated_at desc, file_index desc, line desc", "order_no superseded by a newer state"
    else:
        return
    con.execute(f"""
        update checked set reason = '{what} in this partition (kept: ' || w.kept || ')'
        from (
            select file_index, line,
                   first_value('file ' || (file_index + 1) || ' line ' || line) over by_key as kept,
                   row_number() over by_key as copy
            from checked where reason is null
            window by_key as (partition by {key} order by {order})
        ) w
        where checked.file_index = w.file_index and checked.line = w.line and w.copy > 1""")


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def stats_metadata(parts: list[PartitionStats]) -> dict[str, object]:
    """Numbers for Dagster asset metadata: totals and the per-file ledger."""
    return {
        "partitions_loaded": len(parts),
        "rows_in": sum(p.rows_in for p in parts),
        "rows_loaded": sum(p.loaded for p in parts),
        "rows_quarantined": sum(p.quarantined for p in parts),
        "files": [asdict(f) for p in parts for f in p.files],
    }


def load_landing(con: duckdb.DuckDBPyConnection, landing_dir: Path, only_changed: bool = True,
                 sources: tuple[str, ...] = tuple(RAW_TABLES)) -> list[PartitionStats]:
    """Load every (or every new or changed) partition of every source found under landing_dir."""
    ensure_raw_schema(con)
    results: list[PartitionStats] = []
    for source in sources:
        known = loaded_fingerprints(con, source) if only_changed else {}
        for dt, files in discover_partitions(landing_dir, source).items():
            if only_changed and known.get(dt) == fingerprint(files):
                continue
            results.append(load_partition(con, source, dt, files, landing_dir))
    return results
