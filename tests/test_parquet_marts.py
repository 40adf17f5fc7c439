"""The mart suites run unchanged on marts written as Parquet folders (the Spark engine's output)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_quality.parquet_marts import attach_parquet_layers, parquet_table_folders, validate_parquet_marts
from data_quality.suites import TableSuite, column_types, not_null, sql_check
from siyu.landing.loader import ensure_raw_schema

MEMBER_SUITE = TableSuite(
    name="probe_dim_member",
    table="marts.dim_member",
    expectations=(*not_null("member_id"),
                  *column_types({"member_id": "VARCHAR", "net_gmv": "DECIMAL(18,2)", "first_seen_at": "TIMESTAMP"})),
)


def _raw_layer(db: Path) -> None:
    con = duckdb.connect(str(db))
    ensure_raw_schema(con)
    con.execute("""insert into raw.wecom_contacts values ('2026-05-18', 'f', 1, now()::timestamp, 'wmA',
                   '{"external_userid": "wmA", "name": "周先生"}', '[]')""")
    con.close()


def _write_mart(build_dir: Path, name: str, select_sql: str, files: int = 1, layer: str = "marts") -> None:
    """A table folder of `files` Parquet part files under <build dir>/<layer>/, as Spark writes them."""
    folder = build_dir / layer / name
    folder.mkdir(parents=True)
    con = duckdb.connect()
    for i in range(files):
        con.execute(f"copy ({select_sql}) to '{folder}/part-{i:05d}.parquet' (format parquet)")
    con.close()
    (folder / "_SUCCESS").write_text("")


MEMBERS = ("select * from (values ('m_1', 12.50::decimal(18,2), timestamp '2026-05-18 01:02:03.456', '{mark}'), "
           "('m_2', 0.00::decimal(18,2), timestamp '2026-05-19 00:00:00', 'oa')) "
           "t(member_id, net_gmv, first_seen_at, first_channel)")


@pytest.fixture
def work(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "work.duckdb"
    _raw_layer(db)
    return db, tmp_path / "build"


def test_suites_pass_on_good_parquet_marts_and_leave_no_views(work):
    db, marts = work
    _write_mart(marts, "dim_member", MEMBERS.format(mark="mini_program"), files=2)
    (marts / "marts" / "empty_folder").mkdir()
    assert list(parquet_table_folders(marts / "marts")) == ["dim_member"]
    outcome, = validate_parquet_marts(db, marts, suites=[MEMBER_SUITE], build_docs=False)
    assert outcome.success and outcome.evaluated_expectations == 4, outcome.summary()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0] == 0
    con.close()


def test_a_null_key_or_wrong_type_fails(work):
    db, marts = work
    _write_mart(marts, "dim_member", "select null::varchar as member_id, 1.5::double as net_gmv, "
                                     "date '2026-05-18' as first_seen_at")
    outcome, = validate_parquet_marts(db, marts, suites=[MEMBER_SUITE], build_docs=False)
    assert not outcome.success
    failed = " ".join(str(f) for f in outcome.failed)
    assert "not_be_null" in failed and "net_gmv" in failed and "first_seen_at" in failed, outcome.summary()


def test_the_pii_scan_reads_the_parquet_values(work):
    db, marts = work
    _write_mart(marts, "dim_member", MEMBERS.format(mark="周先生"))
    outcome = validate_parquet_marts(db, marts, build_docs=False)[-1]
    assert outcome.suite_name == "marts_pii_scan" and not outcome.success, outcome.summary()
    assert "'kind': 'WeCom display name', 'values': 1" in outcome.failed[0].reason, outcome.summary()


def test_a_missing_mart_fails_its_suite(work):
    db, marts = work
    _write_mart(marts, "dim_member", MEMBERS.format(mark="oa"))
    outcomes = validate_parquet_marts(db, marts, build_docs=False)
    missing = [o for o in outcomes if o.table != "marts.dim_member" and o.suite_name != "marts_pii_scan"]
    assert missing and not any(o.success for o in missing)


def test_suites_read_the_layers_below_the_marts(work):
    db, build = work
    _write_mart(build, "dim_member", MEMBERS.format(mark="oa"))
    _write_mart(build, "int_members", "select 'm_1' as member_id", layer="intermediate")
    suite = TableSuite(name="probe_members_known", table="marts.dim_member", expectations=(sql_check(
        "every member is known below", "select * from {batch} where member_id not in "
        "(select member_id from intermediate.int_members)"),))
    outcome, = validate_parquet_marts(db, build, suites=[suite], build_docs=False)
    assert not outcome.success and "1 unexpected row" in outcome.failed[0].reason, outcome.summary()


def test_views_never_replace_a_duckdb_builds_tables(work):
    db, build = work
    con = duckdb.connect(str(db))
    con.execute("create schema marts; create table marts.dim_member (member_id varchar)")
    con.close()
    with pytest.raises(ValueError, match="refusing to replace"):
        attach_parquet_layers(db, build)
