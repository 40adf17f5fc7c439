"""Write-audit-publish: readers open a published file that only ever changes atomically (contracts §6).

The working database holds every layer (raw text and PII included) and is the pipeline's
private state. The published file is the readers' product and is *written*, not copied:

1. from a connection on the working database, attach `<published>.publishing` in an older
   storage format (`STORAGE_VERSION`, see below) and create in it only
   * every table (and view, materialized) of `marts` and `reference` (the dbt seeds),
   * `raw.quarantine` with an allow-list of columns — never `raw_text`;
   with the exact column types, NOT NULL constraints and the persisted dbt descriptions
   (table and column comments, which BI tools show);
2. checkpoint, detach, fsync; set mode 0644 (the file holds no PII and BI tools may run as
   other users);
3. audit the new file: it opens read-only, is in the expected storage version, and holds
   exactly the expected tables with the expected columns, types and row counts;
4. `os.replace` it onto the published path and fsync the directory.

A reader that has the old file open keeps reading the old version (the rename keeps its inode
alive) and never blocks a publish; a new reader sees the new one. Any failure removes the
partial `.publishing` file, leaves the published file untouched and raises `PublishError`
naming the step, the cause and the file. A stale `.publishing` file left by a killed run is
removed first.

Storage version: DuckDB 2.0 writes storage version 69 by default, which DuckDB 1.x readers
(BI drivers, DBeaver's JDBC, the Node bindings) refuse. `STORAGE_VERSION 'v1.1.0'` writes
file format 64, the only one DuckDB 1.1 reads ('v1.2.0' already writes 65). It is the newest
setting a 1.1 reader opens, so it keeps every type the marts use (DECIMAL(18,2), TIMESTAMP,
DATE, lists) and the 1.1-era compression; every later 1.x and 2.x reader opens it too.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# What readers get: every table and view of these schemas ...
PUBLISHED_SCHEMAS = ("marts", "reference")
# ... and the quarantine ledger, restricted to these columns (an allow-list: a column added to
# raw.quarantine later stays private until someone decides it is fit for readers).
QUARANTINE = ("raw", "quarantine")
QUARANTINE_COLUMNS = ("source", "file", "line", "reason", "loaded_at", "_dt")
QUARANTINE_DESCRIPTIONS = {
    None: "Landing records the loader rejected (one row per record), as a ledger for analysts. "
          "The rejected text itself (raw_text) stays in the private working database.",
    "source": "Landing source the record came from (tracking, orders, wecom_messages, …).",
    "file": "Landing file the record came from, relative to the landing folder.",
    "line": "Line (or record number) of the rejected record in its file.",
    "reason": "Why the record was rejected.",
    "loaded_at": "When the loader rejected it (UTC TIMESTAMP).",
    "_dt": "Landing partition (day) of the file.",
}

STORAGE_VERSION = "v1.1.0"  # newest setting whose files DuckDB 1.1 opens
STORAGE_FORMAT = 64  # the file-format number that setting writes into the header (DuckDB 1.1 reads only 64)
PUBLISHED_MODE = 0o644  # readers' product, no PII
PRIVATE_MODE = 0o600  # the working database: raw text and PII, owner only

_HEADER_MAGIC_OFFSET, _HEADER_VERSION_OFFSET = 8, 12  # DuckDB main header: magic "DUCK", then a uint64 version


class PublishError(RuntimeError):
    """Publishing failed; the published file was not changed and no partial file was left."""


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    kind: str  # "table" or "view" (views are published materialized, as tables)
    columns: tuple[tuple[str, str, bool, str | None], ...]  # (name, type, not null, description)
    comment: str | None

    @property
    def qualified(self) -> str:
        return f"{_ident(self.schema)}.{_ident(self.name)}"


@dataclass(frozen=True)
class PublishReport:
    path: Path
    rows: dict[str, int]  # "schema.table" → rows
    size_bytes: int
    seconds: float
    storage_version: str = STORAGE_VERSION
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def staging_path(published: Path) -> Path:
    return published.with_name(published.name + ".publishing")


def _partial_files(staging: Path) -> list[Path]:
    return [staging, staging.with_name(staging.name + ".wal")]


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Make a file's bytes, or a directory's entries (a rename), durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_format_version(path: Path) -> int:
    """The storage (file-format) number in a DuckDB file's header: 64 for files DuckDB 0.10–1.1 read."""
    with open(path, "rb") as handle:
        header = handle.read(_HEADER_VERSION_OFFSET + 8)
    if header[_HEADER_MAGIC_OFFSET:_HEADER_VERSION_OFFSET] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB database file")
    return int.from_bytes(header[_HEADER_VERSION_OFFSET:_HEADER_VERSION_OFFSET + 8], "little")


def make_private(work_db: Path) -> None:
    """The working database (and its WAL) hold raw text and PII: owner-only."""
    for path in (work_db, work_db.with_name(work_db.name + ".wal")):
        try:
            os.chmod(path, PRIVATE_MODE)
        except FileNotFoundError:
            pass


def published_tables(con: duckdb.DuckDBPyConnection) -> list[PublishedTable]:
    """What the published file will hold, read from the working database's catalog."""
    catalog = con.execute("select current_database()").fetchone()[0]
    schemas = ", ".join(_literal(s) for s in PUBLISHED_SCHEMAS)
    relations = con.execute(f"""
        select schema_name, table_name, 'table', comment from duckdb_tables()
        where database_name = ? and not temporary
          and (schema_name in ({schemas}) or (schema_name = ? and table_name = ?))
        union all
        select schema_name, view_name, 'view', comment from duckdb_views()
        where database_name = ? and not internal and not temporary and schema_name in ({schemas})
        order by 1, 2""", [catalog, *QUARANTINE, catalog]).fetchall()
    columns: dict[tuple[str, str], list[tuple[str, str, bool, str | None]]] = {}
    for schema, table, column, data_type, nullable, comment in con.execute("""
            select schema_name, table_name, column_name, data_type, is_nullable, comment
            from duckdb_columns() where database_name = ? order by schema_name, table_name, column_index""",
            [catalog]).fetchall():
        columns.setdefault((schema, table), []).append((column, data_type, not nullable, comment))
    found = []
    for schema, name, kind, comment in relations:
        cols = columns.get((schema, name), [])
        if (schema, name) == QUARANTINE:
            cols = [(c, t, nn, d or QUARANTINE_DESCRIPTIONS.get(c)) for c, t, nn, d in cols if c in QUARANTINE_COLUMNS]
            comment = comment or QUARANTINE_DESCRIPTIONS[None]
        if kind == "view":
            cols = [(c, t, False, d) for c, t, _, d in cols]
        found.append(PublishedTable(schema, name, kind, tuple(cols), comment))
    return found


def _check_source(tables: list[PublishedTable], work_db: Path) -> None:
    if not any(t.schema == "marts" for t in tables):
        raise PublishError(f"{work_db} has no tables in schema marts: refusing to publish an empty warehouse")
    if not any((t.schema, t.name) == QUARANTINE for t in tables):
        raise PublishError(f"{work_db} has no raw.quarantine table (is it a working database the raw load wrote?)")
    for table in tables:
        if not table.columns:
            raise PublishError(f"{table.schema}.{table.name} in {work_db} has no columns to publish")


def _write(con: duckdb.DuckDBPyConnection, tables: list[PublishedTable]) -> None:
    """Create and fill every published table in the attached `pub` database, in one transaction."""
    con.execute("begin")
    try:
        for schema in sorted({t.schema for t in tables}):
            con.execute(f"create schema pub.{_ident(schema)}")
        for table in tables:
            target = f"pub.{table.qualified}"
            ddl = ", ".join(f"{_ident(c)} {data_type}{' not null' if not_null else ''}"
                            for c, data_type, not_null, _ in table.columns)
            names = ", ".join(_ident(c) for c, *_ in table.columns)
            con.execute(f"create table {target} ({ddl})")
            con.execute(f"insert into {target} ({names}) select {names} from {table.qualified}")
            if table.comment:
                con.execute(f"comment on table {target} is {_literal(table.comment)}")
            for column, _, _, description in table.columns:
                if description:
                    con.execute(f"comment on column {target}.{_ident(column)} is {_literal(description)}")
        con.execute("commit")
    except BaseException:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass
        raise


def _counts(con: duckdb.DuckDBPyConnection, tables: list[PublishedTable], prefix: str = "") -> dict[str, int]:
    if not tables:
        return {}
    union = " union all ".join(f"select {_literal(f'{t.schema}.{t.name}')}, count(*) from {prefix}{t.qualified}"
                               for t in tables)
    return dict(con.execute(union).fetchall())


def _audit(staging: Path, tables: list[PublishedTable], expected_rows: dict[str, int]) -> None:
    """The new file, opened as a reader would: right format, exactly the expected tables, columns and rows."""
    version = file_format_version(staging)
    if version != STORAGE_FORMAT:
        raise PublishError(f"{staging} has storage format {version}, expected {STORAGE_FORMAT} "
                           f"(STORAGE_VERSION {STORAGE_VERSION!r}, readable by DuckDB 1.1+)")
    check = duckdb.connect(str(staging), read_only=True)
    try:
        found = {(s, t): [] for s, t in check.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary").fetchall()}
        views = check.execute("select schema_name, view_name from duckdb_views() where not internal").fetchall()
        for schema, table, column, data_type, nullable in check.execute(
                "select schema_name, table_name, column_name, data_type, is_nullable from duckdb_columns() "
                "where not internal order by schema_name, table_name, column_index").fetchall():
            if (schema, table) in found:
                found[(schema, table)].append((column, data_type, not nullable))
        wanted = {(t.schema, t.name): [(c, d, nn) for c, d, nn, _ in t.columns] for t in tables}
        if set(found) != set(wanted) or views:
            extra = sorted(set(found) - set(wanted)) + sorted(views)
            raise PublishError(f"{staging} holds the wrong tables: missing {sorted(set(wanted) - set(found))}, "
                               f"unexpected {extra}")
        wrong = {f"{s}.{t}": cols for (s, t), cols in found.items() if cols != wanted[(s, t)]}
        if wrong:
            name = next(iter(wrong))
            raise PublishError(f"{staging}: columns differ from the working database in {sorted(wrong)}; "
                               f"e.g. {name}: {wrong[name]}")
        rows = _counts(check, tables)
    finally:
        check.close()
    if rows != expected_rows:
        diff = {k: (rows.get(k), v) for k, v in expected_rows.items() if rows.get(k) != v}
        raise PublishError(f"{staging}: row counts differ from the working database (published, expected): {diff}")


def _close(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.close()
    except duckdb.Error:
        pass  # a database invalidated by a failed write; the error that did it is being raised


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text if len(text) < 2000 else text[:2000] + " …"


def _space_hint(error: BaseException, folder: Path) -> str:
    """A sentence on the likely cause when a write failed for lack of space or a size limit."""
    code = error.errno if isinstance(error, OSError) else None
    text = str(error).lower()
    if code in (errno.ENOSPC, errno.EDQUOT) or "no space left" in text or "quota" in text:
        try:
            free = f"{shutil.disk_usage(folder).free / 1e6:,.0f} MB free now"
        except OSError:
            free = "free space unknown"
        return f" The disk holding {folder} is full ({free})."
    if code == errno.EFBIG or "file too large" in text:
        return f" The file hit a size limit (ulimit -f, or the file system's maximum file size) in {folder}."
    return ""


def publish_report(work_db: Path, published: Path) -> PublishReport:
    """Write, audit and atomically publish the readers' file from the working database."""
    started = time.perf_counter()
    work_db, published = Path(work_db), Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(published)
    partial = _partial_files(staging)
    _remove(partial)  # left by a run killed while publishing
    if not work_db.exists():
        raise PublishError(f"no working database at {work_db}: nothing to publish; {published} was not changed")
    steps: dict[str, float] = {}
    step = f"making {work_db} private (mode {PRIVATE_MODE:o})"
    mark = time.perf_counter()
    try:
        make_private(work_db)
        step = "reading the working database"
        # Hold the working database read-write (locked against any other writer) while reading it.
        con = duckdb.connect(str(work_db))
        try:
            tables = published_tables(con)
            _check_source(tables, work_db)
            expected_rows = _counts(con, tables)
            step = f"writing {staging}"
            con.execute(f"attach {_literal(str(staging))} as pub (storage_version {_literal(STORAGE_VERSION)})")
            _write(con, tables)
            step = f"checkpointing {staging}"
            con.execute("checkpoint pub")
            con.execute("detach pub")
        finally:
            _close(con)
        make_private(work_db)  # a WAL created since the start
        steps["write"] = time.perf_counter() - mark
        step = f"syncing {staging} to disk"
        mark = time.perf_counter()
        if staging.with_name(staging.name + ".wal").exists():
            raise PublishError(f"{staging} still has a write-ahead log after its checkpoint")
        os.chmod(staging, PUBLISHED_MODE)
        _fsync(staging)
        steps["fsync"] = time.perf_counter() - mark
        step = f"auditing {staging}"
        mark = time.perf_counter()
        _audit(staging, tables, expected_rows)
        steps["audit"] = time.perf_counter() - mark
        step = f"renaming {staging} onto {published}"
        size = staging.stat().st_size
        os.replace(staging, published)
    except BaseException as error:
        _remove(partial)
        if isinstance(error, PublishError):
            raise PublishError(f"publishing {published} failed while {step}: {error}. "
                               f"The partial {staging.name} was removed; {published.name} was not changed.") from error
        if not isinstance(error, Exception):
            raise  # KeyboardInterrupt, SystemExit: clean up, then let it through unchanged
        raise PublishError(f"publishing {published} failed while {step}: {_describe(error)}."
                           f"{_space_hint(error, published.parent)} "
                           f"The partial {staging.name} was removed; {published.name} was not changed.") from error
    try:
        _fsync(published.parent)  # make the rename itself durable
    except OSError as error:
        raise PublishError(f"{published} was published, but syncing its folder failed ({_describe(error)}): "
                           "after a power loss readers may see the previous version") from error
    return PublishReport(published, expected_rows, size, time.perf_counter() - started, STORAGE_VERSION, steps)


def publish(work_db: Path, published: Path) -> Path:
    return publish_report(work_db, published).path
