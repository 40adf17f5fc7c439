"""`siyu forget`: erase a person from every layer, and keep them out of every later load (contracts §7).

China's PIPL (Art. 47) obliges a brand to delete a person's personal information on request.
Given one identifier, the command

1. finds the member it belongs to in the identity graph (`intermediate.int_identity_map`); an
   identifier shared by strangers (contracts §4, e.g. a store landline) is refused, it would take
   other people with it;
2. records the request as salted hashes of each of the member's identifiers, with its time
   (`raw._forget_requests`: no identifier, name or id of the person is stored);
3. removes the person's records from the raw layer — every event, contact, follow, group entry,
   message, order and quarantined line — counted as *suppressed* in the per-file ledger
   (`siyu.landing.suppression`, the same code the loader runs on every later load);
4. rebuilds staging, intermediate and marts from that raw layer, runs every check and
   republishes (the published file is written anew, never patched);
5. rewrites the working database file, so the deleted bytes are not left in free blocks.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from .landing import suppression
from .landing.discovery import scan
from .landing.loader import ensure_raw_schema
from .landing.schema import SOURCES
from .pii import MissingSaltError, ensure_salt, hmac_sha256, resolve_salt
from .settings import Settings
from .summary import WarehouseCounts, count_warehouse

KINDS = ("phone", "unionid", "external_userid", "openid", "distinct_id")
PHONE = re.compile(r"^1[3-9][0-9]{9}$")


class ForgetRefused(ValueError):
    """The request cannot be carried out as asked (a shared identifier, a malformed value)."""


def normalize_phone(value: str) -> str | None:
    """contracts §4, exactly as the staging models' `normalize_phone` macro does it."""
    digits = re.sub(r"[^0-9]", "", re.sub(r"^(\+86|0086)", "", value.strip()))
    return digits if PHONE.match(digits) else None


def identifier_of(kind: str, value: str, salt: str) -> str:
    """The identifier as the identity graph writes it: 'kind:value' (a phone as its HMAC)."""
    value = value.strip()
    if kind == "phone":
        phone = normalize_phone(value)
        if phone is None:
            raise ForgetRefused(f"{value!r} is not a mainland mobile number (contracts §4: 1[3-9] and 9 more digits)")
        return "phone:" + hmac_sha256(phone, salt)
    if kind == "openid":
        appid, _, openid = value.partition(":")
        if not appid or not openid:
            raise ForgetRefused("an openid is scoped by its official account: give it as APPID:OPENID")
        return f"openid:{appid}:{openid}"
    if kind not in KINDS:
        raise ForgetRefused(f"unknown identifier kind {kind!r} (one of: {', '.join(KINDS)})")
    if not value:
        raise ForgetRefused(f"an empty {kind} identifies nobody: give the value to erase")
    return f"{kind}:{value}"


def request_rows(identifiers: list[str], salt: str, request_id: str, at: datetime, fingerprint: str) -> list[list]:
    """Salted hashes to store. An openid is also kept without its appid, so a quarantined line that
    only holds the bare value is recognised too."""
    rows: dict[str, str] = {}
    for identifier in identifiers:
        kind = identifier.split(":", 1)[0]
        rows[suppression.request_key(identifier, salt)] = kind
        if kind == "openid":
            rows[suppression.request_key("openid_value:" + identifier.split(":", 2)[2], salt)] = "openid_value"
    return [[key, kind, request_id, at, fingerprint] for key, kind in rows.items()]


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """A table or a view (the Spark engine's identity graph is views over Parquet)."""
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


def member_identifiers(con: duckdb.DuckDBPyConnection, identifier: str) -> tuple[str | None, list[str]]:
    """The member an identifier belongs to and all of that member's identifiers; refuses a shared one."""
    if _table_exists(con, "intermediate", "int_identity_shared_identifiers"):
        shared = con.execute("""select identifier_kind, unionids_touched from intermediate.int_identity_shared_identifiers
                                where identifier = ?""", [identifier]).fetchone()
        if shared:
            raise ForgetRefused(
                f"this {shared[0]} is shared by strangers: it appears on records of {shared[1]} different people "
                "(unionids), so it identifies nobody (contracts §4, e.g. a store landline). Forgetting it would erase "
                "other people. Ask with an identifier of the person alone (their unionid, openid, external_userid, "
                "own phone or distinct_id). Nothing was changed.")
    if not _table_exists(con, "intermediate", "int_identity_map"):
        return None, [identifier]
    found = con.execute("select member_id from intermediate.int_identity_map where identifier = ?", [identifier]).fetchone()
    if not found:
        return None, [identifier]
    rows = con.execute("select identifier from intermediate.int_identity_map where member_id = ? order by 1",
                       [found[0]]).fetchall()
    return found[0], [r[0] for r in rows]


def _update_ledger(con: duckdb.DuckDBPyConnection, removed: suppression.Suppressed) -> None:
    """The removed records become suppressed in the per-file ledger and the partition log."""
    for source in SOURCES:
        for (dt, file), (loaded, quarantined) in removed.per_file(source).items():
            con.execute("""update raw._file_ledger set loaded = loaded - ?, quarantined = quarantined - ?,
                               suppressed = coalesce(suppressed, 0) + ? where source = ? and dt = ? and file = ?""",
                        [loaded, quarantined, loaded + quarantined, source, dt, file])
            con.execute("""update raw._load_log set loaded = loaded - ?, quarantined = quarantined - ?,
                               suppressed = coalesce(suppressed, 0) + ? where source = ? and dt = ?""",
                        [loaded, quarantined, loaded + quarantined, source, dt])


def erase_from_raw(settings: Settings, identifier: str, salt: str) -> tuple[str | None, suppression.Suppressed, WarehouseCounts]:
    """Steps 1–3 in one transaction: find the member, record the request, suppress their raw records.
    The identity graph is read from the working database's `intermediate` schema (on the Spark
    engine: views over the last build's identity Parquet, see run_forget_spark)."""
    from .build import connect_working_db, require_models_rebuild

    con = connect_working_db(settings.work_db)
    try:
        ensure_raw_schema(con)
        before = count_warehouse(con)
        member, identifiers = member_identifiers(con, identifier)
        fingerprint = hmac_sha256("siyu salt fingerprint v1", salt)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        con.execute("begin transaction")
        try:
            con.executemany("insert or ignore into raw._forget_requests values (?, ?, ?, ?::timestamp, ?)",
                            request_rows(identifiers, salt, uuid.uuid4().hex[:12], now, fingerprint))
            removed = suppression.suppress(con, salt, SOURCES)
            _update_ledger(con, removed)
            if removed.changed_anything:
                # before the commit: a crash in between costs a needless rebuild, never a stale one
                require_models_rebuild(settings, "siyu forget removed or rewrote raw records")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("checkpoint")
        return member, removed, before
    finally:
        con.close()


def compact(work_db: Path) -> None:
    """Rewrite the working database into a new file and replace it: DuckDB reuses freed blocks but
    does not wipe them, so deleted records could otherwise still be read from the file's bytes."""
    from .publish import _fsync

    fresh = work_db.with_name(work_db.name + ".compacting")
    fresh.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{work_db}' as old (read_only)")
        con.execute(f"attach '{fresh}' as fresh")
        con.execute("copy from database old to fresh")
        con.execute("checkpoint fresh")
        con.execute("detach fresh")
        con.execute("detach old")
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.chmod(fresh, 0o600)
    _fsync(fresh)
    os.replace(fresh, work_db)
    _fsync(work_db.parent)


def list_requests(settings: Settings) -> int:
    if not settings.work_db.exists():
        print("no forget requests (no working database yet)")
        return 0
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        if not _table_exists(con, "raw", "_forget_requests"):
            print("no forget requests")
            return 0
        rows = con.execute("""select request_id, min(requested_at), count(*), list(identifier_kind || ' ' || key order by key)
                              from raw._forget_requests group by request_id order by 2""").fetchall()
    finally:
        con.close()
    if not rows:
        print("no forget requests")
        return 0
    print(f"{len(rows)} forget request(s); each identifier is kept only as a salted SHA-256 hash")
    for request_id, at, n, keys in rows:
        print(f"request {request_id}  {at:%Y-%m-%d %H:%M:%S} UTC  {n} identifier hash(es)")
        for key in keys:
            print(f"    {key}")
    return 0


def _held_anything(removed: suppression.Suppressed | None) -> bool:
    """Whether the erasure removed or rewrote anything; when not, says so (no rebuild is needed)."""
    if removed is not None and removed.changed_anything:
        return True
    print("siyu forget: no record of the warehouse holds them, so the published marts hold nothing of them and "
          "nothing is rebuilt; the request is kept, so later loads suppress their records.", flush=True)
    return False


def _erase(settings: Settings, kind: str, value: str, identity_parquet: Path | None = None,
           ) -> tuple[int, WarehouseCounts | None, suppression.Suppressed | None]:
    """Steps 1–3 with the command's messages: (exit code, the warehouse's counts before). A Spark
    warehouse's identity graph is Parquet (`identity_parquet`/intermediate/<table>/), read through
    views in its working DuckDB for the time of the lookup."""
    from data_quality.parquet_marts import attach_parquet_layers, detach_parquet_layers

    from .build import RunRefused, working_db_alone

    try:
        ensure_salt()
        salt = resolve_salt()
        identifier = identifier_of(kind, value, salt)
        if not scan(settings.landing_dir).days():  # the rebuild after the erasure reads it: refuse first
            raise ForgetRefused(f"no landing partitions found under {settings.landing_dir}: the rebuild that follows "
                                "the erasure needs them (--landing DIR or SIYU_LANDING_DIR). Nothing was erased.")
        with working_db_alone(settings, full_refresh=False):
            if identity_parquet is not None:
                attach_parquet_layers(settings.work_db, identity_parquet, layers=("intermediate",))
            try:
                member, removed, before = erase_from_raw(settings, identifier, salt)
            finally:
                if identity_parquet is not None:
                    detach_parquet_layers(settings.work_db, layers=("intermediate",))
    except (MissingSaltError, ForgetRefused) as error:
        print(f"siyu forget: {error}", file=sys.stderr)
        return 2, None, None
    except RunRefused as refused:
        print(f"siyu forget: {refused}", file=sys.stderr)
        return refused.code, None, None
    who = f"member {member}" if member else "no member (the identifier is not in the identity graph)"
    print(f"siyu forget: {kind} → {who}; request recorded as salted hashes; "
          f"{sum(removed.rows.values()):,} raw records and {sum(removed.quarantined.values()):,} quarantined lines "
          f"removed, {sum(removed.rewritten.values()):,} records that mentioned them rewritten", flush=True)
    return 0, before, removed


def run_forget(kind: str, value: str) -> int:
    from .build import _exclusive_run, run_build

    os.umask(0o077)
    settings = Settings.from_env()
    settings.export()
    code, before, removed = _erase(settings, kind, value)
    if code != 0:
        return code
    if not _held_anything(removed):
        return 0
    code = run_build()  # erase_from_raw asked for whole models and a new publish (require_models_rebuild)
    if code != 0:
        print("siyu forget: the rebuild failed; the person is out of the raw layer and stays out of every load, "
              "but the published file still holds the previous build. Fix the cause and run `siyu build`.",
              file=sys.stderr)
        return code
    with _exclusive_run(settings.work_db) as holder:
        if holder is None:
            compact(settings.work_db)
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        after = count_warehouse(con)
    finally:
        con.close()
    print("siyu forget: before → after")
    print(f"  raw records        {before.raw_rows:>12,} → {after.raw_rows:,}")
    print(f"  quarantined lines  {before.quarantined:>12,} → {after.quarantined:,}")
    print(f"  members            {before.members:>12,} → {after.members:,}")
    print(f"  funnel             {' → '.join(f'{n:,}' for n in before.funnel)}  ⇒  {' → '.join(f'{n:,}' for n in after.funnel)}")
    print(f"  net GMV            {before.net_gmv:>12,.2f} → {after.net_gmv:,.2f}")
    return 0


def run_forget_spark(kind: str, value: str, warehouse_dir: Path, landing_dir: Path) -> int:
    """`siyu forget --engine spark --warehouse DIR`: the same erasure for a Spark warehouse. Its working
    DuckDB (DIR/.work) holds the raw layer and the suppression ledger; the person's member is looked up
    in the last build's identity graph (DIR/.work/identity); then a Spark build rewrites DIR/raw/ and
    DIR/marts/ from the erased raw layer (Spark builds are always whole), and the working database is
    compacted."""
    from .build import _exclusive_run
    from .engines.spark import SparkLayout, SparkUnavailable, check_spark_ready, run_spark_build

    os.umask(0o077)
    try:
        check_spark_ready()  # before the erasure: a rebuild that cannot start would leave the marts holding them
    except SparkUnavailable as error:
        print(f"siyu forget: {error}\nNothing was erased.", file=sys.stderr)
        return 2
    layout = SparkLayout(warehouse_dir.resolve())
    settings = layout.settings(landing_dir)
    settings.export()
    if not settings.work_db.exists():
        print(f"siyu forget: {warehouse_dir} has no Spark build yet (no {settings.work_db}); nothing to erase",
              file=sys.stderr)
        return 2
    code, _, removed = _erase(settings, kind, value, identity_parquet=layout.identity)
    if code != 0:
        return code
    if not _held_anything(removed):
        return 0
    print("siyu forget: rebuilding on Spark", flush=True)
    code = run_spark_build(settings.landing_dir, layout.root)
    if code != 0:
        print("siyu forget: the Spark rebuild failed; the person is out of the working database's raw layer and stays "
              f"out of every load, but {layout.raw} and {layout.marts} still hold the previous build. Fix the cause and "
              "run `siyu build --engine spark`.", file=sys.stderr)
        return code
    with _exclusive_run(settings.work_db) as holder:
        if holder is None:
            compact(settings.work_db)
    print(f"siyu forget: done; {layout.raw} and {layout.marts} were rewritten without them")
    return 0
