"""The published warehouse (contracts §2, §6): what it holds, how it is written, and write-audit-publish
under stress.

Part 1 — `siyu.publish` on a small hand-made working database (fast, no build): only `marts`,
`reference` and `raw.quarantine` without `raw_text` reach readers; types, NOT NULL and the
persisted descriptions are kept; the file is in storage format 64 (STORAGE_VERSION 'v1.1.0') and
a DuckDB 1.1 reader opens it; a failed publish (disk full, size limit, failed audit) leaves no
`.publishing` file and the published file unchanged; a reader holding the old file never blocks
a publish; the working database is owner-only, the published file world-readable.

Part 2 — one sequence, one landing (400 members × 20 days), three `siyu build` runs:

1. build the first half of the days and publish (version "old"): tests/test_idempotency.py's
   build (1) of the same landing, made once per test session (`first_half_build`); this sequence
   goes on in a copy of its folder;
2. deliver the rest (the other days, with the late and corrected pieces of that landing), start
   `siyu build` in its own session, wait until dbt is running, SIGKILL the whole process group;
   the published file must be byte-identical and open fine;
3. leave a stale `.publishing` file (as a kill during the write would), run `siyu build` again
   while a reader process loops open → read two marts → close on the published file. The run
   must succeed, the reader must never fail, and every read must show the old or the new values.
   The published file of that run is then checked against the readers' contract (no PII).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.harness import REPO, run_siyu, siyu_env, with_installed_dbt
from tests.test_idempotency import DAYS, continue_from, first_half_build, sync_landing

READS = {
    "orders": "select count(*), sum(net_gmv)::varchar from marts.fct_orders",
    "funnel": "select count(*), sum(exposure_members) from marts.funnel_daily",
    "events": "select count(*), count(distinct member_id) from marts.fct_touchpoint_events",
}

READER = r"""
import json, sys, time, duckdb
path, out, stop, reads = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
import os
with open(out, "w") as log:
    while True:
        stopping = os.path.exists(stop)
        started = time.time()
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                values = {name: [str(v) for v in con.execute(sql).fetchone()] for name, sql in reads.items()}
            finally:
                con.close()
            log.write(json.dumps({"t": started, "ok": True, "values": values}) + "\n")
        except Exception as error:
            log.write(json.dumps({"t": started, "ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
        log.flush()
        if stopping:
            break
        time.sleep(0.02)
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_values(db: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: [str(v) for v in con.execute(sql).fetchone()] for name, sql in READS.items()}
    finally:
        con.close()


def build_args(landing: Path, work: Path) -> list[str]:
    return ["build", "--landing", str(landing), "--warehouse", str(work / "warehouse.duckdb")]


def build_command(landing: Path, work: Path) -> list[str]:
    """`siyu build` as its own interpreter, for the runs this module kills."""
    return [sys.executable, "-m", "siyu.cli", *build_args(landing, work)]


def session_processes(pgid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process in a process group (zombies waiting to be reaped excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")))
        except (OSError, ValueError, IndexError):
            continue
    return found


# ---------------------------------------------------------------------------------------------
# Part 1: siyu.publish on a hand-made working database
# ---------------------------------------------------------------------------------------------

PHONE, NAME, REMARK, MESSAGE = "13800138000", "张三丰", "please call after 6pm", "群里的秘密消息"
OLD_READER_VERSION = "1.1.3"

WORK_DDL = f'''
create schema raw; create schema staging; create schema intermediate; create schema marts; create schema reference;
create table main.scratch as select '{PHONE}' as phone;
create table raw.orders as select 'O-' || range as order_no, '{PHONE}' as buyer_phone, '{NAME}' as buyer_name,
    '{REMARK}' as remark, date '2026-08-01' as _dt from range(50);
create table raw.wecom_messages as select 'm' || range as msgid, '{MESSAGE}' as content from range(20);
create table raw.quarantine (source varchar not null, file varchar not null, line bigint, reason varchar not null,
    raw_text varchar, loaded_at timestamp not null, _dt date);
insert into raw.quarantine values
    ('orders', 'orders/dt=2026-08-01/orders.csv', 7, 'unparseable paid_at', '{PHONE},{NAME},{REMARK}', timestamp '2026-08-02 01:00:00', date '2026-08-01'),
    ('wecom_messages', 'wecom_messages/dt=2026-08-01/m.jsonl', 3, 'not JSON', '{{"content": "{MESSAGE}"', timestamp '2026-08-02 01:00:00', date '2026-08-01');
create table raw._load_log (source varchar, dt date, primary key (source, dt));
insert into raw._load_log values ('orders', date '2026-08-01');
create table staging.stg_orders__orders as select order_no, sha256(buyer_phone) as buyer_phone_hash, buyer_name from raw.orders;
create table intermediate.int_identity_map as select 'phone:{PHONE}' as identifier, 'M1' as member_id;
create table marts.fct_orders (order_no varchar not null, member_id varchar not null, paid_at timestamp,
    paid_date date, net_gmv decimal(18,2), tags varchar[], is_paid boolean, share double, items integer);
insert into marts.fct_orders select 'O-' || range, 'M' || (range % 97), timestamp '2026-08-01 08:00:00' + to_minutes(range),
    date '2026-08-01' + (range % 20)::int, (range * 1.25)::decimal(18,2), ['a', 'b' || (range % 3)], range % 3 > 0,
    range / 7.0, (range % 5)::integer from range(5000);
comment on table marts.fct_orders is 'One row per order (订单), latest state. It''s the order fact.';
comment on column marts.fct_orders.order_no is 'Order number';
comment on column marts.fct_orders.net_gmv is 'Net GMV 净成交额, DECIMAL(18,2)';
create table marts."odd ""name""" ("a ""quoted"" col" integer not null, "Mixed Case" varchar);
insert into marts."odd ""name""" values (1, 'x'), (2, null);
create view marts.paid_orders as select order_no, net_gmv from marts.fct_orders where is_paid;
comment on view marts.paid_orders is 'Paid orders only';
create table reference.channels as select * from (values ('wecom', '企业微信'), ('oa', '公众号')) v(channel, label);
'''

EXPECTED_TABLES = {("marts", "fct_orders"), ("marts", 'odd "name"'), ("marts", "paid_orders"),
                   ("raw", "quarantine"), ("reference", "channels")}


def make_work_db(path: Path) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute(WORK_DDL)
    finally:
        con.close()
    return path


def add_orders(work_db: Path, n: int) -> None:
    con = duckdb.connect(str(work_db))
    try:
        con.execute("insert into marts.fct_orders (order_no, member_id, net_gmv) "
                    "select 'N-' || range, 'M0', 1.00 from range(?)", [n])
    finally:
        con.close()


def order_count(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    finally:
        con.close()


@pytest.fixture()
def work(tmp_path) -> tuple[Path, Path]:
    """(working database, published path) in a fresh folder."""
    return make_work_db(tmp_path / "siyu.work.duckdb"), tmp_path / "siyu.duckdb"


@pytest.fixture(scope="module")
def old_reader(tmp_path_factory) -> dict[str, str]:
    """Environment for a Python that imports DuckDB 1.1 (installed from PyPI into a scratch folder)."""
    target = tmp_path_factory.mktemp("duckdb_old")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "--only-binary=:all:", "--target", str(target), f"duckdb=={OLD_READER_VERSION}"],
                             capture_output=True, text=True, timeout=600)
    if install.returncode != 0:
        pytest.skip(f"could not install duckdb=={OLD_READER_VERSION} from PyPI: {install.stderr[-1500:]}")
    env = dict(os.environ, PYTHONPATH=str(target), PYTHONNOUSERSITE="1")
    version = subprocess.run([sys.executable, "-c", "import duckdb; print(duckdb.__version__)"],
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert version == OLD_READER_VERSION
    return env


def read_with_old_duckdb(env: dict[str, str], db: Path, queries: dict[str, str]) -> dict:
    script = ("import duckdb, json, sys\n"
              "con = duckdb.connect(sys.argv[1], read_only=True)\n"
              "print(json.dumps({'version': duckdb.__version__, **{k: [[str(v) for v in row] for row in con.execute(q).fetchall()]"
              " for k, q in json.loads(sys.argv[2]).items()}}))\n")
    result = subprocess.run([sys.executable, "-c", script, str(db), json.dumps(queries)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def tables_of(db: Path) -> dict[tuple[str, str], list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {(s, t): [] for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() union all "
            "select schema_name, view_name from duckdb_views() where not internal").fetchall()}
        for s, t, c, d, n, comment in con.execute(
                "select schema_name, table_name, column_name, data_type, is_nullable, comment from duckdb_columns() "
                "where not internal order by schema_name, table_name, column_index").fetchall():
            if (s, t) in tables:
                tables[(s, t)].append((c, d, n, comment))
        return tables
    finally:
        con.close()


def values_containing(db: Path, needles: list[str]) -> list[str]:
    """Every schema.table.column of the file with a value that contains one of the needles."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{db}' as f (read_only)")
        columns = con.execute("select schema_name, table_name, column_name from duckdb_columns() "
                              "where database_name = 'f' and not internal").fetchall()
        con.execute("create temp table needles (n varchar)")
        con.executemany("insert into needles values (?)", [[n] for n in needles])
        con.execute("create temp table vals (col varchar, v varchar)")
        for schema, table, column in columns:
            quoted = ".".join('"' + x.replace('"', '""') + '"' for x in (schema, table))
            col = '"' + column.replace('"', '""') + '"'
            con.execute(f"insert into vals select distinct ?, {col}::varchar from f.{quoted}",
                        [f"{schema}.{table}.{column}"])
        return sorted(c for (c,) in con.execute(
            "select distinct col from vals join needles on contains(v, n)").fetchall())
    finally:
        con.close()


def test_publish_holds_only_marts_reference_and_quarantine_without_raw_text(work):
    from siyu.publish import PUBLISHED_MODE, STORAGE_FORMAT, STORAGE_VERSION, file_format_version, publish_report

    work_db, published = work
    report = publish_report(work_db, published)
    tables = tables_of(published)
    assert set(tables) == EXPECTED_TABLES
    assert [c for c, *_ in tables[("raw", "quarantine")]] == ["source", "file", "line", "reason", "loaded_at", "_dt"]
    assert report.rows == {"marts.fct_orders": 5000, 'marts.odd "name"': 2, "marts.paid_orders": 3333,
                           "raw.quarantine": 2, "reference.channels": 2}
    assert report.storage_version == STORAGE_VERSION == "v1.1.0"
    assert file_format_version(published) == STORAGE_FORMAT == 64
    assert file_format_version(work_db) > 64  # the working database stays in DuckDB 2.0's own format
    assert stat_mode(published) == PUBLISHED_MODE
    assert report.size_bytes == published.stat().st_size
    assert not list(published.parent.glob("*.publishing*"))
    assert values_containing(published, [PHONE, NAME, REMARK, MESSAGE]) == []
    assert values_containing(work_db, [PHONE])  # (the search itself finds what is there)


def test_publish_keeps_types_not_null_comments_and_values(work):
    from siyu.publish import publish

    work_db, published = work
    publish(work_db, published)
    source, target = tables_of(work_db), tables_of(published)
    for key in EXPECTED_TABLES - {("raw", "quarantine"), ("marts", "paid_orders")}:
        assert target[key] == source[key], key
    assert target[("marts", "paid_orders")] == [(c, d, True, k) for c, d, _, k in source[("marts", "paid_orders")]]
    orders = {c: (d, n, k) for c, d, n, k in target[("marts", "fct_orders")]}
    assert orders["net_gmv"] == ("DECIMAL(18,2)", True, "Net GMV 净成交额, DECIMAL(18,2)")
    assert orders["paid_at"][0] == "TIMESTAMP" and orders["paid_date"][0] == "DATE" and orders["tags"][0] == "VARCHAR[]"
    assert orders["order_no"] == ("VARCHAR", False, "Order number")
    quarantine = {c: (d, n, k) for c, d, n, k in target[("raw", "quarantine")]}
    assert quarantine["source"][:2] == ("VARCHAR", False) and quarantine["loaded_at"][:2] == ("TIMESTAMP", False)
    assert all(k for _, _, k in quarantine.values()), "the quarantine columns are described for readers"
    con = duckdb.connect(str(published), read_only=True)
    try:
        comments = dict(con.execute("select table_name, comment from duckdb_tables()").fetchall())
        assert comments["fct_orders"] == "One row per order (订单), latest state. It's the order fact."
        assert comments["paid_orders"] == "Paid orders only"
        assert "raw_text" in comments["quarantine"]  # says where the rejected text went
        con.execute(f"attach '{work_db}' as w (read_only)")
        for schema, table in EXPECTED_TABLES:
            t = f'"{schema}"."{table.replace(chr(34), chr(34) * 2)}"'
            cols = ", ".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c, *_ in target[(schema, table)])
            differ = con.execute(f"select count(*) from (select {cols} from w.{t} except all select {cols} from {t}) "
                                 f"union all select count(*) from (select {cols} from {t} except all select {cols} from w.{t})"
                                 ).fetchall()
            assert differ == [(0,), (0,)], (schema, table)
    finally:
        con.close()


def test_duckdb_1_1_reads_the_published_file(work, old_reader):
    """BI drivers, DBeaver and the Node bindings bundle DuckDB 1.x: the published file must open there."""
    from siyu.publish import publish

    work_db, published = work
    publish(work_db, published)
    queries = {
        "orders": "select count(*), sum(net_gmv), min(paid_at), max(paid_date), sum(len(tags)) from marts.fct_orders",
        "types": "select column_name, data_type from duckdb_columns() where table_name = 'fct_orders' order by column_index",
        "comment": "select comment from duckdb_tables() where table_name = 'fct_orders'",
        "quarantine": "select source, line, reason from raw.quarantine order by line",
    }
    old = read_with_old_duckdb(old_reader, published, queries)
    assert old.pop("version") == OLD_READER_VERSION
    con = duckdb.connect(str(published), read_only=True)
    try:
        new = {k: [[str(v) for v in row] for row in con.execute(q).fetchall()] for k, q in queries.items()}
    finally:
        con.close()
    assert old == new
    assert ["net_gmv", "DECIMAL(18,2)"] in old["types"]


def test_duckdb_1_1_cannot_read_the_working_database(work, old_reader):
    """Why the published file is written in an older format: the working database's format is refused."""
    script = "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)"
    work_db, _ = work
    result = subprocess.run([sys.executable, "-c", script, str(work_db)], env=old_reader, capture_output=True, text=True)
    assert result.returncode != 0 and "version" in result.stderr


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_working_database_is_owner_only_and_published_file_world_readable(work):
    from siyu.publish import make_private, publish

    work_db, published = work
    os.chmod(work_db, 0o644)
    old_umask = os.umask(0o077)  # whatever the umask, readers can open the published file
    try:
        publish(work_db, published)
    finally:
        os.umask(old_umask)
    assert stat_mode(work_db) == 0o600
    assert stat_mode(published) == 0o644
    wal = work_db.with_name(work_db.name + ".wal")
    wal.write_bytes(b"")  # a WAL left by a writer (publish checkpoints it away, so check the helper itself)
    os.chmod(wal, 0o644)
    os.chmod(work_db, 0o644)
    make_private(work_db)
    assert stat_mode(wal) == 0o600 and stat_mode(work_db) == 0o600


def test_stale_publishing_files_are_removed(work):
    from siyu.publish import publish

    work_db, published = work
    stale = published.with_name(published.name + ".publishing")
    stale.write_bytes(b"half a file from a killed run")
    stale.with_name(stale.name + ".wal").write_bytes(b"and its log")
    publish(work_db, published)
    assert sorted(p.name for p in published.parent.iterdir()) == sorted([work_db.name, published.name])
    assert order_count(published) == 5000


def assert_failed_cleanly(error: Exception, published: Path, before: bytes | None, *words: str) -> None:
    message = str(error)
    assert str(published) in message, message
    for word in words:
        assert word in message, message
    assert not list(published.parent.glob("*.publishing*")), list(published.parent.iterdir())
    if before is None:
        assert not published.exists()
    else:
        assert published.read_bytes() == before


def test_disk_full_while_syncing_leaves_nothing_behind(work, monkeypatch):
    from siyu import publish as publishing

    work_db, published = work
    publishing.publish(work_db, published)
    before = published.read_bytes()
    add_orders(work_db, 10)

    def full(fd):
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(publishing.os, "fsync", full)
    with pytest.raises(publishing.PublishError) as failed:
        publishing.publish(work_db, published)
    assert_failed_cleanly(failed.value, published, before, "No space left on device", "is full", ".publishing",
                          "not changed")
    monkeypatch.undo()
    publishing.publish(work_db, published)
    assert order_count(published) == 5010


def test_a_write_duckdb_cannot_finish_leaves_nothing_behind(work, tmp_path):
    """DuckDB's own writes fail (here: a file-size limit of 1 MB, as a full disk would fail them)."""
    work_db, published = work
    script = ("import resource, signal, sys\n"
              "from pathlib import Path\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))\n"
              "from siyu.publish import publish, PublishError\n"
              "try:\n"
              "    publish(Path(sys.argv[1]), Path(sys.argv[2]))\n"
              "except PublishError as error:\n"
              "    print(error)\n"
              "    sys.exit(7)\n")
    result = subprocess.run([sys.executable, "-c", script, str(work_db), str(published)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 7, result.stdout + result.stderr[-3000:]
    assert_failed_cleanly(Exception(result.stdout), published, None, "File too large", "size limit", ".publishing")
    assert order_count(work_db) == 5000  # the working database is untouched


def test_failed_audit_leaves_the_published_file_unchanged(work, monkeypatch):
    from siyu import publish as publishing

    work_db, published = work
    publishing.publish(work_db, published)
    before = published.read_bytes()
    monkeypatch.setattr(publishing, "STORAGE_FORMAT", 65)
    with pytest.raises(publishing.PublishError) as failed:
        publishing.publish(work_db, published)
    assert_failed_cleanly(failed.value, published, before, "auditing", "storage format 64")


def test_refuses_to_publish_without_marts(tmp_path):
    from siyu.publish import PublishError, publish

    work_db = tmp_path / "empty.work.duckdb"
    duckdb.connect(str(work_db)).close()
    with pytest.raises(PublishError, match="no tables in schema marts"):
        publish(work_db, tmp_path / "siyu.duckdb")
    with pytest.raises(PublishError, match="no working database"):
        publish(tmp_path / "missing.duckdb", tmp_path / "siyu.duckdb")
    assert not (tmp_path / "missing.duckdb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.work.duckdb"]


HOLDER = r"""
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from marts.fct_orders").fetchone()[0], flush=True)
sys.stdin.readline()  # keep the old file open until told
print(con.execute("select count(*) from marts.fct_orders").fetchone()[0], flush=True)
"""


def test_a_reader_holding_the_old_file_never_blocks_publishing(work):
    from siyu.publish import publish

    work_db, published = work
    publish(work_db, published)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "5000"
        add_orders(work_db, 7)
        publish(work_db, published)  # while the reader holds the old file open (and its lock)
        assert order_count(published) == 5007  # a new reader sees the new version
        out, err = holder.communicate("\n", timeout=60)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert holder.returncode == 0, err
    assert out.strip() == "5000"  # the old reader goes on reading the old version


# ---------------------------------------------------------------------------------------------
# Part 2: write-audit-publish under stress, through `siyu build`
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sequence(tmp_path_factory, worker_id) -> dict:
    base = tmp_path_factory.mktemp("publish")
    landing, work = base / "landing", base / "work"
    env = with_installed_dbt(siyu_env(work))  # the kill must reach dbt: a child in the run's process group
    published = work / "warehouse.duckdb"
    out: dict = {"work": work, "published": published, "timings": {}}

    # 1. the "old" version: the first half built and published (once per session), copied here
    start = first_half_build(tmp_path_factory, worker_id)
    if start.seconds is not None:
        out["timings"]["first build (shared with test_idempotency)"] = start.seconds
    continue_from(start, landing, work)
    out["old_sha"], out["old_values"] = sha256(published), read_values(published)
    old_tables = duckdb.connect(str(published), read_only=True)
    out["old_marts"] = sorted(t for (t,) in old_tables.execute(
        "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall())
    old_tables.close()

    # 2. a run over new data, killed (SIGKILL, whole process group) while dbt is building
    sync_landing(start.landing, landing)
    started = time.perf_counter()
    killed = subprocess.Popen(build_command(landing, work), cwd=REPO, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    phase = "before dbt"
    deadline = time.time() + 300
    while time.time() < deadline and killed.poll() is None:
        if any(" build" in cmd and "/dbt " in cmd for _, cmd in session_processes(killed.pid)):
            phase = "dbt build running"
            break
        time.sleep(0.1)
    if phase == "dbt build running":
        time.sleep(2.0)  # into the middle of dbt's model builds
        if not any("/dbt " in cmd for _, cmd in session_processes(killed.pid)):
            phase = "after dbt"
    still_running = killed.poll() is None
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    out["killed"] = {"phase": phase, "was_running": still_running, "returncode": killed.returncode,
                     "stderr": killed.stderr.read().decode(errors="replace")[-3000:]}
    killed.stderr.close()
    out["timings"]["killed run (until kill)"] = time.perf_counter() - started
    for _ in range(50):  # SIGKILL is asynchronous: give the kernel a moment to end every process
        if not session_processes(killed.pid):
            break
        time.sleep(0.1)
    out["left_in_group"] = session_processes(killed.pid)
    out["after_kill_sha"] = sha256(published)
    out["after_kill_values"] = read_values(published)
    out["after_kill_files"] = sorted(p.name for p in work.iterdir())

    # 3. a stale .publishing file, then a run that succeeds while a reader hammers the published file
    stale = work / "warehouse.duckdb.publishing"
    stale.write_bytes(b"half a copy from a killed run")
    reader_log, stop = base / "reads.jsonl", base / "stop-reader"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published), str(reader_log), str(stop), json.dumps(READS)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        started = time.perf_counter()
        build_started_at = time.time()
        recovery = run_siyu(build_args(landing, work), env)
        build_finished_at = time.time()
        out["timings"]["recovery build (with reader)"] = time.perf_counter() - started
        time.sleep(1.0)
    finally:
        stop.touch()
        try:
            reader_out, reader_err = reader.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            reader.kill()
            reader_out, reader_err = reader.communicate()
    out["recovery"] = recovery
    out["reader_returncode"], out["reader_stderr"] = reader.returncode, reader_err.decode(errors="replace")[-3000:]
    out["reads"] = [json.loads(line) for line in reader_log.read_text().splitlines() if line.strip()]
    out["build_window"] = (build_started_at, build_finished_at)
    out["stale_left"] = stale.exists()
    if recovery.returncode == 0:
        out["new_sha"], out["new_values"] = sha256(published), read_values(published)
        con = duckdb.connect(str(published), read_only=True)
        out["new_marts"] = sorted(t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall())
        con.close()
        out["published_tables"] = tables_of(published)
        work_db = work / "warehouse.work.duckdb"
        out["work_tables"] = tables_of(work_db)
        out["modes"] = {"published": stat_mode(published), "work": stat_mode(work_db)}
        private = duckdb.connect(str(work_db), read_only=True)
        out["days_loaded"] = private.execute("select count(distinct dt) from raw._load_log").fetchone()[0]
        # PII as it landed (raw text only the working database keeps): phones, names, remarks, messages
        out["pii"] = sorted({v for (v,) in private.execute("""
            select buyer_phone from raw.orders union
            select external_contact->>'$.name' from raw.wecom_contacts union
            select unnest(from_json(follow_user, '["json"]'))->>'$.remark' from raw.wecom_contacts union
            select message->>'$.text.content' from raw.wecom_messages where "from" like 'wm%'
            union select raw_text from raw.quarantine""").fetchall() if v and len(v) >= 3})
        private.close()
    print("\n" + ", ".join(f"{k} {v:.0f}s" for k, v in out["timings"].items())
          + f"; killed during: {out['killed']['phase']}; left after the kill: {out['after_kill_files']}; "
          f"reads: {len(out['reads'])}")
    return out


def test_killed_run_really_was_killed_mid_run(sequence):
    killed = sequence["killed"]
    assert killed["was_running"], f"the run finished before it could be killed: {killed}"
    assert killed["returncode"] == -signal.SIGKILL
    assert killed["phase"] == "dbt build running", killed
    assert sequence["left_in_group"] == [], f"processes of the killed run survive: {sequence['left_in_group']}"


def test_killed_run_leaves_published_file_intact(sequence):
    assert sequence["after_kill_sha"] == sequence["old_sha"]
    assert sequence["after_kill_values"] == sequence["old_values"]
    assert "warehouse.duckdb.wal" not in sequence["after_kill_files"]


def test_next_build_after_kill_succeeds_and_publishes_everything(sequence):
    recovery = sequence["recovery"]
    assert recovery.returncode == 0, f"{recovery.stdout[-3000:]}\n{recovery.stderr[-6000:]}"
    assert sequence["new_sha"] != sequence["old_sha"]
    assert sequence["new_values"] != sequence["old_values"]
    assert sequence["days_loaded"] == DAYS
    assert sequence["new_marts"] == sequence["old_marts"], "stray or missing tables in marts after the kill"
    assert not sequence["stale_left"], "a stale .publishing file was left behind"


def test_built_warehouse_publishes_the_readers_contract_only(sequence):
    """contracts §6 on a real build: marts, reference and raw.quarantine without raw_text; nothing else, no PII."""
    assert sequence["recovery"].returncode == 0
    published, work = sequence["published_tables"], sequence["work_tables"]
    expected = {k for k in work if k[0] in ("marts", "reference")} | {("raw", "quarantine")}
    assert set(published) == expected
    assert {k[0] for k in published} == {"marts", "reference", "raw"}
    for key in expected - {("raw", "quarantine")}:
        assert published[key] == work[key], f"{key}: columns, types, nullability or descriptions changed"
    assert sum(1 for cols in published.values() for *_, comment in cols if comment) >= 200  # dbt docs persisted
    # every column of the marts and of the reference seeds carries its description (README: the published file)
    undescribed = [(*key, column) for key, cols in published.items() if key[0] in ("marts", "reference")
                   for column, *_, comment in cols if not comment]
    assert undescribed == [], undescribed
    quarantine = [c for c, *_ in published[("raw", "quarantine")]]
    assert "raw_text" in [c for c, *_ in work[("raw", "quarantine")]] and "raw_text" not in quarantine
    assert {"source", "file", "line", "reason", "loaded_at"} <= set(quarantine)
    assert sequence["modes"] == {"published": 0o644, "work": 0o600}
    assert len(sequence["pii"]) >= 50, sequence["pii"]
    assert values_containing(sequence["published"], sequence["pii"]) == []
    assert values_containing(sequence["work"] / "warehouse.work.duckdb", sequence["pii"])  # the search finds PII where it is


def test_duckdb_1_1_reads_the_built_warehouse(sequence, old_reader):
    from siyu.publish import STORAGE_FORMAT, file_format_version

    assert file_format_version(sequence["published"]) == STORAGE_FORMAT
    old = read_with_old_duckdb(old_reader, sequence["published"], READS)
    assert old.pop("version") == OLD_READER_VERSION
    assert {k: v[0] for k, v in old.items()} == sequence["new_values"]


def test_reader_never_fails_and_sees_old_or_new(sequence):
    reads = sequence["reads"]
    assert sequence["reader_returncode"] == 0, sequence["reader_stderr"]
    failures = [r for r in reads if not r["ok"]]
    assert not failures, f"{len(failures)} of {len(reads)} reads failed, e.g. {failures[:3]}"
    start, end = sequence["build_window"]
    during = [r for r in reads if start <= r["t"] <= end]
    assert len(during) >= 20, f"only {len(during)} reads during the build"
    versions = {"old": sequence["old_values"], "new": sequence.get("new_values")}
    seen = [next((name for name, v in versions.items() if r["values"] == v), None) for r in reads]
    odd = [r for r, s in zip(reads, seen) if s is None]
    assert not odd, f"reads that match neither version: {odd[:3]} (old {versions['old']}, new {versions['new']})"
    assert seen[0] == "old" and seen[-1] == "new"
    switch = seen.index("new")
    assert all(s == "new" for s in seen[switch:]), "a reader went back to the old version after seeing the new one"


def test_a_second_concurrent_build_is_refused_cleanly(sequence):
    """While one run holds the working database, another `siyu build` stops at once with a clear
    message (instead of a DuckDB lock error midway) and changes nothing."""
    import fcntl

    work, published = sequence["work"], sequence["published"]
    before = sha256(published)
    landing = Path(sequence["recovery"].args[sequence["recovery"].args.index("--landing") + 1])
    with open(work / "warehouse.work.duckdb.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        result = run_siyu(build_args(landing, work), siyu_env(work), timeout=300)
    assert result.returncode == 3, result.stderr[-3000:]
    assert "another build" in result.stderr and "Traceback" not in result.stderr
    assert sha256(published) == before
