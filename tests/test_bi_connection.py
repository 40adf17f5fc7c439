"""A BI tool's view of the warehouse: SQLAlchemy + duckdb-engine, read-only, as Superset connects.

While `siyu build` processes a new landing partition against the same warehouse, a separate
reader process (like a BI server) keeps opening the published file and running every operator
query, and this process holds one connection open for the whole run. Neither may ever fail or
see a half-built warehouse, and the run must succeed. Also: the connection strings of the
README work and are really read-only, and `siyu sql -c` prints a table.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.harness import REPO, copy_build, run_siyu, siyu_env
from tests.landing import write_jsonl
from tests.test_operator_queries import QUERIES, ev

OLD_D, NEW_D = date(2026, 5, 31), date(2026, 6, 1)

# A separate process, like a BI server: every round opens a fresh read-only connection (no pool,
# so each round sees the file as it is now), checks the warehouse is complete and runs every
# operator query. One JSON line per round; stops after the round that follows the stop file.
READER = r"""
import json, sys, time
from pathlib import Path
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

published, queries_dir, stop, expected = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), set(json.loads(sys.argv[4]))
queries = {p.name: p.read_text(encoding="utf-8") for p in sorted(queries_dir.glob("*.sql"))}
engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True}, poolclass=NullPool)
while True:
    last = stop.exists()
    started = time.time()
    try:
        with engine.connect() as con:
            marts = {t for (t,) in con.exec_driver_sql(
                "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}
            latest = con.exec_driver_sql("select max(business_date)::varchar from marts.member_layers_daily").scalar()
            rows = {name: len(con.exec_driver_sql(sql).fetchall()) for name, sql in queries.items()}
        print(json.dumps({"ok": True, "complete": expected <= marts, "missing": sorted(expected - marts),
                          "latest": latest, "rows": rows, "seconds": round(time.time() - started, 3)}), flush=True)
    except Exception as exc:  # a failure is the finding: report it, keep going
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}), flush=True)
    if last:
        break
    time.sleep(0.2)
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, operator_build: tuple[Path, Path]) -> dict:
    """A copy of the operator queries' build (tests/conftest.py `operator_build`) and of its landing:
    a test here adds a day and builds again."""
    root = tmp_path_factory.mktemp("bi")
    shared_landing, shared_published = operator_build
    landing = Path(shutil.copytree(shared_landing, root / "landing"))
    work = copy_build(shared_published.parent, root / "build")
    return {"root": root, "landing": landing, "work": work, "published": work / shared_published.name}


def _marts(published: Path) -> set[str]:
    engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True}, poolclass=NullPool)
    with engine.connect() as con:
        return {t for (t,) in con.exec_driver_sql(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}


def _siyu_sql(published: Path, sql: str, work: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "siyu.cli", "sql", "-c", sql, "--warehouse", str(published)],
                          cwd=REPO, env=siyu_env(work), capture_output=True, text=True, timeout=60)


def test_readme_connection_strings_are_read_only(setup: dict) -> None:
    published = setup["published"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "duckdb:////abs/path/data/warehouse/siyu.duckdb?access_mode=read_only" in readme
    for url, connect_args in [(f"duckdb:///{published}?access_mode=read_only", {}),  # the README's URL
                              (f"duckdb:///{published}", {"read_only": True})]:   # connect_args, as Superset's "Extra"
        engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
        with engine.connect() as con:
            assert con.exec_driver_sql("select current_setting('access_mode')").scalar() == "read_only"
            assert con.exec_driver_sql("select count(*) from marts.dim_member").scalar() == 15
            with pytest.raises(Exception, match="read-only|read only|Cannot execute"):
                con.exec_driver_sql("create table marts.scratch (i integer)")


def test_sqlalchemy_inspector_lists_tables_columns_and_comments(setup: dict) -> None:
    """What Superset, Metabase-via-SQLAlchemy and notebooks call to show a schema."""
    from sqlalchemy import inspect

    engine = create_engine(f"duckdb:///{setup['published']}?access_mode=read_only", poolclass=NullPool)
    inspector = inspect(engine)
    assert {"marts", "reference"} <= {name.split(".")[-1] for name in inspector.get_schema_names()}  # "<catalog>.<schema>"
    assert {"dim_member", "funnel_daily", "fct_orders"} <= set(inspector.get_table_names(schema="marts"))
    columns = {c["name"]: c for c in inspector.get_columns("funnel_daily", schema="marts")}
    assert {"cohort_date", "channel", "exposure_members", "deal_members"} <= set(columns)
    assert columns["cohort_date"]["comment"] and "exposure" in columns["cohort_date"]["comment"]
    assert "conversion" in inspector.get_table_comment("funnel_daily", schema="marts")["text"]


def test_siyu_sql_prints_a_table(setup: dict) -> None:
    result = _siyu_sql(setup["published"], "select count(*) from marts.dim_member", setup["work"])
    assert result.returncode == 0, result.stderr
    assert "count_star()" in result.stdout and "15" in result.stdout
    assert any(ch in result.stdout for ch in "│┌|"), result.stdout  # a drawn table, not a bare number
    # the README's way of running an operator query file: comments and all
    result = _siyu_sql(setup["published"], (QUERIES / "open_rate_by_channel.sql").read_text(encoding="utf-8"), setup["work"])
    assert result.returncode == 0, result.stderr
    assert "oa_service" in result.stdout and "open_rate" in result.stdout


def test_readers_never_fail_while_a_run_publishes(setup: dict) -> None:
    published, work, landing, root = setup["published"], setup["work"], setup["landing"], setup["root"]
    expected = _marts(published)
    assert {"dim_member", "funnel_daily", "channel_reach", "group_member_activity"} <= expected
    # a new landing day: a push to A and a new member Z
    write_jsonl(landing, "tracking", NEW_D.isoformat(), [
        ev("n1", "A", "push_delivered", "2026-06-01 09:00", "oa_service"),
        ev("n2", "Z", "content_impression", "2026-06-01 10:00", "douyin_kol"),
    ])
    stop, reader_log = root / "stop-reader", root / "reader.jsonl"
    with open(reader_log, "w") as log:  # a file, not a pipe: a full pipe would stall the reader
        reader = subprocess.Popen([sys.executable, "-c", READER, str(published), str(QUERIES), str(stop),
                                   json.dumps(sorted(expected))], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
    # this process holds one pooled connection open for the whole run, as a BI server's pool does
    held_engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    held = held_engine.connect()
    held_sql = (QUERIES / "channel_buyers.sql").read_text(encoding="utf-8")
    held_rounds = 0
    started = time.time()
    # `siyu build` in a process of its own (tests.harness.run_siyu), waited for in a thread while this
    # one keeps querying
    finished: list[subprocess.CompletedProcess | BaseException] = []

    def run_build() -> None:
        try:
            finished.append(run_siyu(["build", "--landing", str(landing), "--warehouse", str(published)], siyu_env(work)))
        except BaseException as error:  # reported by the assertion below
            finished.append(error)

    build = threading.Thread(target=run_build, daemon=True)
    build.start()
    try:
        while build.is_alive():
            assert held.exec_driver_sql(held_sql).fetchall()  # never blocks, never fails
            held_rounds += 1
            time.sleep(0.5)
        build_seconds = time.time() - started
        [done] = finished
        assert isinstance(done, subprocess.CompletedProcess), f"siyu build did not run: {done!r}"
        assert done.returncode == 0, f"siyu build failed while readers were open:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
        # the held connection keeps its consistent (old) snapshot of the warehouse
        assert held.exec_driver_sql("select max(business_date) from marts.member_layers_daily").scalar() == OLD_D
    finally:
        held.close()
        held_engine.dispose()
        stop.touch()
        try:
            reader.wait(timeout=120)
        finally:
            if reader.poll() is None:
                reader.kill()
    reader_out = reader_log.read_text(encoding="utf-8")
    rounds = [json.loads(line) for line in reader_out.splitlines() if line.startswith("{")]
    assert rounds, f"the reader produced nothing: {reader_out[-3000:]}"
    failures = [r for r in rounds if not r["ok"]]
    assert not failures, failures[:3]
    incomplete = [r for r in rounds if not r["complete"]]
    assert not incomplete, incomplete[:3]
    assert len(rounds) >= 3, f"only {len(rounds)} reader rounds during a {build_seconds:.0f} s run"
    assert held_rounds >= 3
    seen = [r["latest"] for r in rounds]
    print(f"run {build_seconds:.0f} s; reader rounds {len(rounds)} (old {seen.count(OLD_D.isoformat())}, "
          f"new {seen.count(NEW_D.isoformat())}); held-connection rounds {held_rounds}")
    assert seen[0] == OLD_D.isoformat() and seen[-1] == NEW_D.isoformat(), seen
    assert set(seen) == {OLD_D.isoformat(), NEW_D.isoformat()}  # nothing in between: old or new, never half
    # every operator query answered in every round; after the run a new reader sees the new member
    assert all(set(r["rows"]) == {p.name for p in QUERIES.glob("*.sql")} for r in rounds)
    result = _siyu_sql(published, "select count(*) from marts.dim_member", work)
    assert result.returncode == 0 and "16" in result.stdout, result.stdout + result.stderr
