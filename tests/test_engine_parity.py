"""The same landing built by both engines gives the same marts (issue #15, DESIGN §8), also after
both engines erased the same person (`siyu forget`, DESIGN §7).

The landing is the suite's shared simulated one (2,000 members × 60 days with late and duplicated
events, malformed lines, recalled messages, re-exported snapshots, shared identifiers), whose
DuckDB build other modules read too. On an in-process Spark, `siyu build --engine spark --select`
loads the raw layer and stitches identities; `siyu forget --engine spark` then erases a member with
orders and three kinds of identifiers and rebuilds every model on Spark. A copy of the DuckDB build
forgets the same person. Then every mart must have the same columns with the same types (read by
DuckDB: money DECIMAL(18,2), times plain TIMESTAMP in UTC, lists VARCHAR[]) and the same rows
(tests/parity.py: exact, except DOUBLE ratios to a relative 1e-12), and the quarantine ledger the
same entries. (A Spark build costs per dbt node, not per row: the erasure's rebuild is the suite's
one whole Spark build of this landing.)
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from siyu.publish import QUARANTINE_COLUMNS
from tests.harness import copy_build, run_siyu, siyu_env, working_db
from tests.parity import mart_differences
from tests.test_spark_engine import needs_spark

pytestmark = [pytest.mark.e2e, needs_spark]


@pytest.fixture(scope="module")
def person(simulated) -> dict:
    """The person both engines forget, found in the DuckDB build (both engines give a member the same
    id): the first member with an order and identifiers of three kinds, a follower's unionid among them."""
    _, published = simulated
    con = duckdb.connect(str(working_db(published)), read_only=True)
    try:
        followers = "(select 'unionid:' || unionid from raw.oa_followers)"
        member, unionid, identifiers = con.execute(f"""
            select m.member_id, any_value(m.identifier) filter (where m.identifier in {followers}), count(*)
            from intermediate.int_identity_map m semi join marts.fct_orders o using (member_id)
            group by 1 having count(distinct m.identifier_kind) >= 3 and bool_or(m.identifier in {followers})
            order by 1 limit 1""").fetchone()
        openids = con.execute("select count(*) from intermediate.int_identity_map where member_id = ? "
                              "and identifier_kind = 'openid'", [member]).fetchone()[0]
        members = con.execute("select count(*) from marts.dim_member").fetchone()[0]
    finally:
        con.close()
    assert identifiers >= 3 and unionid.startswith("unionid:")
    return {"member": member, "unionid": unionid.removeprefix("unionid:"), "identifiers": identifiers,
            "openids": openids, "members_before": members}


@pytest.fixture(scope="module")
def spark_build(simulated, person, tmp_path_factory) -> tuple[Path, Path, str]:
    """(published DuckDB file after the same erasure, Spark output folder, the Spark rebuild's stdout)."""
    landing, published = simulated
    work = tmp_path_factory.mktemp("spark-engine")
    out = work / "warehouse"
    # the raw layer and the identity graph `siyu forget` looks the person up in
    stitched = run_siyu(["build", "--engine", "spark", "--landing", str(landing), "--warehouse", str(out),
                         "--select", "+int_identity_map", "+int_identity_shared_identifiers"],
                        siyu_env(work), cwd=work, timeout=1200)
    assert stitched.returncode == 0, stitched.stdout[-4000:] + stitched.stderr[-4000:]
    assert not (out / "marts").exists() or not any((out / "marts").iterdir())  # no mart built yet
    forgot = run_siyu(["forget", "--engine", "spark", "--warehouse", str(out), "--landing", str(landing),
                       "--unionid", person["unionid"]], siyu_env(work), cwd=work, timeout=1200)
    assert forgot.returncode == 0, forgot.stdout[-4000:] + forgot.stderr[-4000:]
    assert f"member {person['member']}" in forgot.stdout

    duck = copy_build(published.parent, work / "duckdb")  # the other modules keep reading the original
    env = siyu_env(duck, warehouse=duck / published.name, landing=landing)
    duck_forgot = run_siyu(["forget", "--unionid", person["unionid"]], env, cwd=duck, timeout=1200)
    assert duck_forgot.returncode == 0, duck_forgot.stdout[-4000:] + duck_forgot.stderr[-4000:]
    return duck / published.name, out, forgot.stdout


def test_every_mart_is_identical_on_both_engines(spark_build):
    published, out, _ = spark_build
    con = duckdb.connect(str(published), read_only=True)
    marts = [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()]
    con.close()
    assert len(marts) >= 21  # every mart of DESIGN §6 and the extras
    assert mart_differences(published, out / "marts") == {}


def test_money_times_and_lists_have_the_contract_types(spark_build):
    _, out, _ = spark_build
    con = duckdb.connect()
    types = dict(con.execute(
        f"select column_name, column_type from (describe select * from read_parquet('{out}/marts/fct_orders/*.parquet'))"
    ).fetchall())
    assert types["net_gmv"] == "DECIMAL(18,2)" and types["paid_at"] == "TIMESTAMP" and types["paid_date"] == "DATE"
    tags = con.execute(f"select column_type from (describe select * from read_parquet('{out}/marts/dim_member/*.parquet')) "
                       "where column_name = 'tags'").fetchone()
    assert tags == ("VARCHAR[]",)


def test_the_quarantine_ledger_is_the_duckdb_builds(spark_build):
    published, out, _ = spark_build
    columns = ", ".join(c for c in QUARANTINE_COLUMNS if c != "loaded_at")  # each build's own load time
    con = duckdb.connect(str(published), read_only=True)
    duck = con.execute(f"select {columns} from raw.quarantine order by all").fetchall()
    spark = con.execute(f"select {columns} from read_parquet('{out}/raw/quarantine/*.parquet') order by all").fetchall()
    con.close()
    assert duck and spark == duck
    assert len(con_columns(out)) == len(QUARANTINE_COLUMNS)  # the readers' allow-list, raw_text never


def con_columns(out: Path) -> list[str]:
    con = duckdb.connect()
    try:
        return [r[0] for r in con.execute(f"describe select * from read_parquet('{out}/raw/quarantine/*.parquet')").fetchall()]
    finally:
        con.close()


def test_both_blocking_checks_ran_and_nothing_is_left_behind(spark_build):
    _, out, stdout = spark_build
    assert "PASS=" in stdout and "ERROR=0" in stdout  # dbt's tests on Spark
    assert "Great Expectations suites and PII scan on the Parquet marts" in stdout
    assert not list(out.glob(".build-*"))
    assert sorted(p.name for p in out.iterdir()) == [".work", "marts", "raw"]
    # readers reach the marts and the quarantine ledger; the raw tables and .work/ are the pipeline's
    marts = out / "marts"
    assert all(p.stat().st_mode & (0o005 if p.is_dir() else 0o004) for p in [marts, *marts.rglob("*")])
    assert (out / "raw" / "quarantine").stat().st_mode & 0o005 == 0o005
    assert (out / "raw" / "tracking").stat().st_mode & 0o077 == 0 and (out / ".work").stat().st_mode & 0o077 == 0


def test_forget_erases_a_person_from_a_spark_warehouse(spark_build, person):
    """`siyu forget --engine spark`: the member (found through the kept identity graph, so every one of
    their identifiers goes) leaves the raw Parquet, the working database and every mart."""
    _, out, _ = spark_build
    member, unionid = person["member"], person["unionid"]
    con = duckdb.connect()
    identity = f"read_parquet('{out}/.work/identity/intermediate/int_identity_map/*.parquet')"
    for mart in ("dim_member", "fct_orders", "fct_touchpoint_events", "fct_member_funnel"):
        assert con.execute(f"select count(*) from read_parquet('{out}/marts/{mart}/*.parquet') where member_id = ?",
                           [member]).fetchone()[0] == 0, mart
    assert con.execute(f"select count(*) from read_parquet('{out}/marts/dim_member/*.parquet')").fetchone()[0] == \
        person["members_before"] - 1
    assert con.execute(f"select count(*) from {identity} where member_id = ?", [member]).fetchone()[0] == 0
    assert con.execute(f"select count(*) from read_parquet('{out}/raw/oa_followers/*/*.parquet') where unionid = ?",
                       [unionid]).fetchone()[0] == 0
    work = duckdb.connect(str(out / ".work" / "siyu.work.duckdb"), read_only=True)
    assert work.execute("select count(*) from raw.oa_followers where unionid = ?", [unionid]).fetchone()[0] == 0
    # one salted hash per identifier, and a bare-value one per openid (siyu.forget.request_rows)
    assert work.execute("select count(*) from raw._forget_requests").fetchone()[0] == \
        person["identifiers"] + person["openids"]
    work.close()
