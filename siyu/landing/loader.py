"""Load landing partitions into the raw layer, quarantining what breaks the contract.

All partitions of a source that need loading go through DuckDB together, in batches of about
`BATCH_BYTES` of files: Python only reads the files (and decodes each as a whole), DuckDB splits
lines, parses JSON once per record and evaluates every contract rule (`rules.py`) as set-based
SQL. Files that are not valid UTF-8 as a whole fall back to line-by-line decoding, so a bad line
costs only that line. CSV exports go through Python's csv module (quoted fields may span lines).

Reloading a partition replaces it (delete + insert in one transaction per batch), so loads are
idempotent and order-independent. Per file, rows in = rows loaded + rows quarantined + rows
suppressed (records of people erased with `siyu forget`, see `suppression.py`), recorded
in the per-file ledger `raw._file_ledger`; `raw._load_log` holds one row per partition.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from . import rules, suppression
from .decoding import MAX_RAW_TEXT_CHARS, MAX_RECORD_BYTES, UTF8_BOM, DecodedFile, Rejected, decode_csv, decode_jsonl_lines
from .discovery import FileStat, Landing, LandingFile, Partition, hash_files, open_no_follow, scan
from .schema import QUARANTINE_DDL, RAW_TABLES, SOURCES

# Files of one source are loaded in batches of about this many bytes: memory stays bounded at any
# scale while each batch is large enough for DuckDB to work at full speed.
BATCH_BYTES = int(os.environ.get("SIYU_LOAD_BATCH_BYTES", 256 * 1024 * 1024))

LEDGER_DDL = """
    source varchar not null, dt date not null, file varchar not null,
    size bigint, mtime_ns bigint, ctime_ns bigint, inode bigint, sha256 varchar,
    encoding varchar, rows_in bigint, loaded bigint, quarantined bigint, suppressed bigint default 0,
    loaded_at timestamp, primary key (source, dt, file)"""
LOAD_LOG_DDL = """
    source varchar, dt date, fingerprint varchar, files integer, rows_in bigint,
    loaded bigint, quarantined bigint, loaded_at timestamp, suppressed bigint default 0, primary key (source, dt)"""


@dataclass
class FileStats:
    file: str
    encoding: str
    rows_in: int = 0
    loaded: int = 0
    quarantined: int = 0
    suppressed: int = 0  # records of forgotten people (siyu forget), kept out at intake
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

    @property
    def suppressed(self) -> int:
        return sum(f.suppressed for f in self.files)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for table, ddl in RAW_TABLES.items():
        con.execute(f"create table if not exists raw.{table} ({ddl})")
    con.execute(f"create table if not exists raw.quarantine ({QUARANTINE_DDL})")
    con.execute(f"create table if not exists raw._load_log ({LOAD_LOG_DDL})")
    con.execute("alter table raw._load_log add column if not exists suppressed bigint default 0")
    con.execute(f"create table if not exists raw._file_ledger ({LEDGER_DDL})")
    suppression.ensure_requests_table(con)


# --- what needs loading -------------------------------------------------------------------------

def _known_state(con: duckdb.DuckDBPyConnection | None, source: str
                 ) -> tuple[dict[date, str], dict[str, tuple[FileStat, str]]]:
    """Partition fingerprints and per-file (stat, content hash) from the last loads of a source."""
    if con is None or not con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                                      "and table_name = '_file_ledger'").fetchone()[0]:
        return {}, {}
    partitions = dict(con.execute("select dt, fingerprint from raw._load_log where source = ?", [source]).fetchall())
    files = {name: (FileStat(size, mtime, ctime, inode), sha)
             for name, size, mtime, ctime, inode, sha in con.execute(
                 "select file, size, mtime_ns, ctime_ns, inode, sha256 from raw._file_ledger where source = ?",
                 [source]).fetchall()}
    return partitions, files


def pending_partitions(con: duckdb.DuckDBPyConnection | None, landing: Landing, source: str,
                       days: set[date] | None = None, reload_unchanged: bool = False) -> list[Partition]:
    """Partitions of `source` (within `days`, if given) whose content differs from what was loaded,
    plus loaded partitions whose folder vanished (they are emptied). The one place change detection lives."""
    known, known_files = _known_state(con, source)
    present = landing.partitions.get(source, {})
    candidates = [p for dt, p in present.items() if days is None or dt in days]
    if reload_unchanged:
        pending = candidates
    else:
        # only partitions loaded before need their content compared; new ones load anyway
        hash_files([p for p in candidates if p.dt in known], known_files)
        pending = [p for p in candidates if p.dt not in known or known[p.dt] != p.fingerprint()]
    pending += [Partition(source, dt, []) for dt in known
                if dt not in present and (days is None or dt in days)]
    return sorted(pending, key=lambda p: p.dt)


def changed_days(con: duckdb.DuckDBPyConnection | None, landing: Landing, sources: tuple[str, ...] = SOURCES) -> list[date]:
    return sorted({p.dt for s in sources for p in pending_partitions(con, landing, s)})


# --- reading files ------------------------------------------------------------------------------

@dataclass
class _Batch:
    """The records of a batch of files, as Arrow tables DuckDB reads without copying."""

    source: str
    files: list[LandingFile] = field(default_factory=list)
    file_names: list[str] = field(default_factory=list)
    file_days: list[date] = field(default_factory=list)
    stats: list[FileStats] = field(default_factory=list)
    contents: list[pa.Array] = field(default_factory=list)  # whole files as Arrow text, one value each (JSONL happy path)
    content_index: list[int] = field(default_factory=list)
    line_tables: list[pa.Table] = field(default_factory=list)  # pre-split records (CSV, fallback JSONL)
    rejected: list[tuple[int, Rejected]] = field(default_factory=list)


def _add_file(batch: _Batch, index: int, landing_file: LandingFile) -> None:
    with open_no_follow(landing_file.path) as handle:
        data = handle.read()
    # the ledger records the hash of exactly the bytes that were loaded (one read per file)
    landing_file.sha256 = hashlib.sha256(data).hexdigest()
    if batch.source in rules.CSV_COLUMNS:
        decoded = decode_csv(data)
        stats = batch.stats[index]
        stats.encoding = decoded.encoding
        batch.line_tables.append(_csv_table(batch.source, index, decoded, stats))
        batch.rejected += [(index, r) for r in decoded.rejected]
        return
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    try:
        # Arrow checks the bytes are UTF-8 and keeps them as they are: no Python string is made
        # (decoding into one and encoding it back for Arrow was a third of the JSONL load)
        batch.contents.append(pa.array([data], pa.large_binary()).cast(pa.large_string()))
        batch.content_index.append(index)
    except pa.ArrowInvalid:
        decoded = decode_jsonl_lines(data)
        batch.line_tables.append(pa.table({
            "file_index": pa.array([index] * len(decoded.lines), pa.int32()),
            "line": pa.array(decoded.lines, pa.int64()),
            "text": pa.array(decoded.texts, pa.string()),
        }))
        batch.rejected += [(index, r) for r in decoded.rejected]


def _csv_table(source: str, file_index: int, decoded: DecodedFile, stats: FileStats) -> pa.Table:
    """Arrow table of the decodable records of a CSV file (all text), ready for the SQL rules."""
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
    n = len(decoded.lines)
    columns: dict[str, pa.Array] = {
        "file_index": pa.array([file_index] * n, pa.int32()),
        "line": pa.array(decoded.lines, pa.int64()),
        "text": pa.array(decoded.texts, pa.string()),
        "csv_problem": pa.array(problem, pa.string()),
    }
    for name in rules.CSV_COLUMNS[source]:
        i = position.get(name)
        columns[name] = pa.array([row[i] if i is not None and i < len(row) else None for row in decoded.rows], pa.string())
    return pa.table(columns)


# --- checking and writing -----------------------------------------------------------------------

BLANK = r"[ \t\n\x0b\x0c\r]*"  # what Python's bytes.strip() removes: such a line is no record


def _records_sql(batch: _Batch) -> str:
    """One relation `(file_index, line, text[, csv columns])` of every non-blank record of the batch."""
    parts = []
    if batch.contents:
        # Split whole files into lines in DuckDB; drop one trailing CR (CRLF files) per line.
        parts.append("""
            select file_index, line,
                   case when ends_with(piece, chr(13)) then left(piece, length(piece) - 1) else piece end as text
            from (select file_index, unnest(range(1, len(pieces) + 1)) as line, unnest(pieces) as piece
                  from (select file_index, string_split(content, chr(10)) as pieces from contents))""")
    if batch.line_tables:
        parts.append("select * from lines")
    union = "\nunion all by name\n".join(parts)
    return f"select * from ({union}) where not regexp_full_match(text, '{BLANK}')"


def _check_sql(source: str) -> tuple[str, list[str]]:
    """Records with their reason (NULL when loadable) and the raw table's columns as `out_<name>`."""
    spec = rules.RULES[source]("_dt")
    is_csv = source in rules.CSV_COLUMNS
    too_large = (f"strlen(text) > {MAX_RECORD_BYTES}",
                 f"'record too large: ' || strlen(text) || ' bytes > {MAX_RECORD_BYTES}'")
    rule_list = [too_large] + ([("csv_problem is not null", "csv_problem")] if is_csv else []) + spec.rules
    column_names = list(spec.columns)
    expressions = [cond for cond, _ in rule_list] + [reason for _, reason in rule_list] + list(spec.columns.values())
    if not is_csv:
        expressions, lists = rules.hoist_json_paths(expressions)
        elements = [(name, i) for name, (_, count) in lists.items() for i in range(1, count + 1)]
    n = len(rule_list)
    hoisted_rules = list(zip(expressions[:n], expressions[n:2 * n]))
    column_exprs = dict(zip(column_names, expressions[2 * n:]))
    reason = rules.reason_expression(hoisted_rules)
    # Columns are extracted only for rows without a reason, so casts never fail on bad rows.
    cols = ",\n".join(f'case when reason is null then {expr} end as "out_{name.strip(chr(34))}"'
                      for name, expr in column_exprs.items())
    if is_csv:
        parsed = "records"
    else:
        unpacked = ", ".join(f"{name}[{i}] as {name}_{i}" for name, i in elements)
        hoisted = ", ".join(f"{sql} as {name}" for name, (sql, _) in lists.items())
        parsed = f"""(select * exclude ({', '.join(lists)}), {unpacked} from (select *, {hoisted} from (
                        select *, case when strlen(text) <= {MAX_RECORD_BYTES} and json_valid(text) then text::json end as j
                        from records)))"""
    hoisted_columns = "" if is_csv else ", j, " + ", ".join(f"{name}_{i}" for name, i in elements)
    sql = f"""
        select * exclude (reason{hoisted_columns}), reason from (
            select *, {cols}
            from (select *, {reason} as reason from {parsed})
        )"""
    return sql, column_names


def _clip_sql(text: str) -> str:
    return (f"case when length({text}) > {MAX_RAW_TEXT_CHARS} then left({text}, {MAX_RAW_TEXT_CHARS}) "
            f"|| '... [truncated, ' || length({text}) || ' characters in all]' else {text} end")


def _quarantine_partition_duplicates(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Keys that must be unique within a partition: keep one copy, quarantine the others with a reason.

    Messages: the first copy (file, line) wins. Orders: the greatest updated_at wins, ties
    to the later line (contracts §3: the newest state of an order wins).
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
                   first_value('file ' || (file_index - first_file + 1) || ' line ' || line) over by_key as kept,
                   row_number() over by_key as copy
            from checked join partition_first_file using (_dt) where reason is null
            window by_key as (partition by _dt, {key} order by {order})
        ) w
        where checked.file_index = w.file_index and checked.line = w.line and w.copy > 1""")


def _load_batch(con: duckdb.DuckDBPyConnection, source: str, parts: list[Partition], loaded_at: datetime) -> list[PartitionStats]:
    batch = _Batch(source)
    for part in parts:
        for f in part.files:
            batch.files.append(f)
            batch.file_names.append(f.name)
            batch.file_days.append(part.dt)
            batch.stats.append(FileStats(file=f.name, encoding="utf-8"))
    for index, landing_file in enumerate(batch.files):
        _add_file(batch, index, landing_file)

    days = [p.dt for p in parts]
    con.execute("begin transaction")
    try:
        con.execute(f"delete from raw.{source} where _dt in (select unnest(?::date[]))", [days])
        con.execute("delete from raw.quarantine where source = ? and _dt in (select unnest(?::date[]))", [source, days])
        con.execute("delete from raw._file_ledger where source = ? and dt in (select unnest(?::date[]))", [source, days])
        con.execute("delete from raw._load_log where source = ? and dt in (select unnest(?::date[]))", [source, days])
        con.register("file_names", pa.table({
            "file_index": pa.array(range(len(batch.file_names)), pa.int32()),
            "_file": pa.array(batch.file_names, pa.string()),
            "_dt": pa.array(batch.file_days, pa.date32()),
        }))
        counts: dict[int, tuple[int, int]] = {}
        if batch.contents or batch.line_tables:
            if batch.contents:
                con.register("contents", pa.table({"file_index": pa.array(batch.content_index, pa.int32()),
                                                   "content": pa.concat_arrays(batch.contents)}))
            if batch.line_tables:
                con.register("lines", pa.concat_tables(batch.line_tables, promote_options="default"))
            con.execute(f"""create or replace temp table records as
                            select r.*, n._dt from ({_records_sql(batch)}) r join file_names n using (file_index)""")
            batch.contents.clear()  # the text now lives in DuckDB
            sql, columns = _check_sql(source)
            con.execute(f"create or replace temp table checked as {sql}")
            con.execute("create or replace temp table partition_first_file as "
                        "select _dt, min(file_index) as first_file from file_names group by _dt")
            _quarantine_partition_duplicates(con, source)
            names = ", ".join(["_dt", "_file", "_line", "_loaded_at"] + columns)
            outs = ", ".join('c."out_' + c.strip('"') + '"' for c in columns)
            con.execute(f"""
                insert into raw.{source} ({names})
                select c._dt, f._file, c.line, ?::timestamp, {outs}
                from checked c join file_names f using (file_index)
                where c.reason is null
                order by c.file_index, c.line""", [loaded_at])
            con.execute(f"""
                insert into raw.quarantine (source, file, line, reason, raw_text, loaded_at, _dt)
                select ?, f._file, c.line, c.reason, {_clip_sql('c.text')}, ?::timestamp, c._dt
                from checked c join file_names f using (file_index)
                where c.reason is not null
                order by c.file_index, c.line""", [source, loaded_at])
            counts = {i: (n, ok) for i, n, ok in con.execute(
                "select file_index, count(*), count(*) filter (where reason is null) from checked group by all").fetchall()}
            con.execute("drop table records; drop table checked")
            if batch.content_index:
                con.unregister("contents")
            if batch.line_tables:
                con.unregister("lines")
        _insert_rows(con, "raw.quarantine", ["source", "file", "line", "reason", "raw_text", "loaded_at", "_dt"],
                     [[source, batch.file_names[i], r.line, r.reason, r.raw_text, loaded_at, batch.file_days[i]]
                      for i, r in batch.rejected])
        rejected_per_file: dict[int, int] = {}
        for i, _ in batch.rejected:
            rejected_per_file[i] = rejected_per_file.get(i, 0) + 1
        suppressed = _suppress_forgotten(con, source, days)
        for i, stats in enumerate(batch.stats):
            seen, ok = counts.get(i, (0, 0))
            gone_loaded, gone_quarantined = suppressed.get((batch.file_days[i], batch.file_names[i]), (0, 0))
            stats.rows_in = seen + rejected_per_file.get(i, 0)
            stats.loaded = ok - gone_loaded
            stats.suppressed = gone_loaded + gone_quarantined
            stats.quarantined = stats.rows_in - stats.loaded - stats.suppressed
        results = _record_ledger(con, source, parts, batch, loaded_at)
        con.unregister("file_names")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return results


def _suppress_forgotten(con: duckdb.DuckDBPyConnection, source: str, days: list[date]
                        ) -> dict[tuple[date, str], tuple[int, int]]:
    """Records of people erased with `siyu forget` never come back: removed inside this load's transaction."""
    if not suppression.has_requests(con):
        return {}
    from ..pii import resolve_salt

    return suppression.suppress(con, resolve_salt(), (source,), days).per_file(source)


def _record_ledger(con: duckdb.DuckDBPyConnection, source: str, parts: list[Partition], batch: _Batch,
                   loaded_at: datetime) -> list[PartitionStats]:
    by_name = {s.file: s for s in batch.stats}
    results: list[PartitionStats] = []
    ledger_rows = []
    for part in parts:
        stats = [by_name[f.name] for f in part.files]
        result = PartitionStats(source, part.dt, stats, part.fingerprint())
        results.append(result)
        for f, s in zip(part.files, stats):
            ledger_rows.append([source, part.dt, f.name, f.stat.size, f.stat.mtime_ns, f.stat.ctime_ns, f.stat.inode,
                                f.sha256, s.encoding, s.rows_in, s.loaded, s.quarantined, s.suppressed, loaded_at])
    # one set-based insert each (DuckDB's executemany runs a statement per row: ≈ 1 s for 90 days)
    _insert_rows(con, "raw._file_ledger", [
        "source", "dt", "file", "size", "mtime_ns", "ctime_ns", "inode", "sha256", "encoding", "rows_in", "loaded",
        "quarantined", "suppressed", "loaded_at"], ledger_rows)
    _insert_rows(con, "raw._load_log", [
        "source", "dt", "fingerprint", "files", "rows_in", "loaded", "quarantined", "loaded_at", "suppressed"],
        [[r.source, r.dt, r.fingerprint, len(r.files), r.rows_in, r.loaded, r.quarantined, loaded_at, r.suppressed]
         for r in results])
    return results


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[list[object]]) -> None:
    """Insert Python rows by column name; DuckDB casts each column to the table's type."""
    if not rows:
        return
    con.register("_new_rows", pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)}))
    try:
        con.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from _new_rows")
    finally:
        con.unregister("_new_rows")


def _batches(parts: list[Partition]) -> list[list[Partition]]:
    """Consecutive partitions grouped to about BATCH_BYTES of files each (a partition is never split)."""
    out: list[list[Partition]] = []
    size = 0
    for part in parts:
        part_size = sum(f.stat.size for f in part.files)
        if not out or size + part_size > BATCH_BYTES:
            out.append([])
            size = 0
        out[-1].append(part)
        size += part_size
    return out


def load_partitions(con: duckdb.DuckDBPyConnection, source: str, parts: list[Partition]) -> list[PartitionStats]:
    """Replace the given partitions of `source` in raw with what their files hold now."""
    ensure_raw_schema(con)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    results: list[PartitionStats] = []
    for batch in _batches(parts):
        results += _load_batch(con, source, batch, loaded_at)
    return results


def stats_metadata(parts: list[PartitionStats]) -> dict[str, object]:
    """Numbers for Dagster asset metadata: totals and the per-file ledger."""
    return {
        "partitions_loaded": len(parts),
        "rows_in": sum(p.rows_in for p in parts),
        "rows_loaded": sum(p.loaded for p in parts),
        "rows_quarantined": sum(p.quarantined for p in parts),
        "rows_suppressed": sum(p.suppressed for p in parts),
        "files": [asdict(f) for p in parts for f in p.files],
    }


def load_landing(con: duckdb.DuckDBPyConnection, landing_dir: Path, only_changed: bool = True,
                 sources: tuple[str, ...] = SOURCES) -> list[PartitionStats]:
    """Load every (or every new or changed) partition of every source found under landing_dir."""
    ensure_raw_schema(con)
    landing = scan(Path(landing_dir), sources)
    results: list[PartitionStats] = []
    for source in sources:
        results += load_partitions(con, source, pending_partitions(con, landing, source, reload_unchanged=not only_changed))
    return results
