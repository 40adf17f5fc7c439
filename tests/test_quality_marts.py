"""The mart suites must fail on bad data and pass on good data (no silent N/A)."""

from __future__ import annotations

import duckdb

from dagster_project.checks.quality import _mart_string_columns
from siyu.landing.loader import ensure_raw_schema
from data_quality.mart_suites import MART_SUITES, pii_scan_suite
from data_quality.runner import validate_table


def _warehouse(path, member_values: list[tuple[str, str]]) -> str:
    con = duckdb.connect(str(path))
    ensure_raw_schema(con)
    con.execute("""insert into raw.wecom_contacts values ('2026-05-18', 'f', 1, now()::timestamp, 'wmA',
                   '{"external_userid": "wmA", "name": "周先生"}', '[]')""")
    con.execute("""insert into raw.wecom_messages values ('2026-05-18', 'f', 1, now()::timestamp, 'm1', 'send', 'wmA',
                   '[]', 'r1', 1779066000000, 'text', '{"text": {"content": "有三人位的吗"}}')""")
    con.execute("create schema marts")
    con.execute("create table marts.dim_member (member_id varchar, first_channel varchar)")
    con.executemany("insert into marts.dim_member values (?, ?)", member_values)
    con.close()
    return str(path)


def test_pii_scan_passes_on_clean_marts(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("m_0139000012340000", "mini_program")])
    outcome = validate_table(db, pii_scan_suite(_mart_string_columns(db)), build_docs=False)
    assert outcome.success and outcome.evaluated_expectations == 3


def test_pii_scan_fails_on_phone_name_and_text(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("m_1", "+86 13900001234"), ("m_2", "周先生"), ("m_3", "有三人位的吗")])
    outcome = validate_table(db, pii_scan_suite(_mart_string_columns(db)), build_docs=False)
    assert not outcome.success
    assert len(outcome.failed) == 3
    assert not any(f.errored for f in outcome.failed)  # real failures, not metric errors


def test_funnel_monotonic_check_fails_on_non_monotonic_row(tmp_path):
    db = str(tmp_path / "f.duckdb")
    con = duckdb.connect(db)
    con.execute("create schema marts")
    con.execute("""create table marts.funnel_daily as select date '2026-05-01' as cohort_date, 'ads' as channel,
        null::varchar as campaign_id, 10::bigint as exposure_members, 5::bigint as interest_members,
        6::bigint as lead_members, 1::bigint as deal_members, 0.5 as interest_rate, 1.2 as lead_rate,
        0.16 as deal_rate, 0.1 as overall_conversion_rate""")
    con.execute("create table marts.fct_member_funnel as select 1 as x from range(10)")
    con.close()
    outcome = validate_table(db, MART_SUITES["funnel_daily"], build_docs=False)
    failed = {f.expectation_type + ":" + (f.column or "") for f in outcome.failed}
    assert not outcome.success
    assert any("unexpected_rows" in f for f in failed)  # monotonic
    assert "expect_column_values_to_be_between:lead_rate" in failed
    assert not any(f.errored for f in outcome.failed)
