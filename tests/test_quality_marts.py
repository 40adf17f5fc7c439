"""The mart suites must fail on bad data and pass on good data (no silent N/A)."""

from __future__ import annotations

import duckdb
import pytest

from data_quality.mart_suites import MART_SUITES, PHONE_PATTERN, mart_text_columns, pii_scan_suite
from data_quality.runner import validate_table
from siyu.landing.loader import ensure_raw_schema

# contracts §4: a leaked phone is a value that IS a phone once normalised (phone-ish characters
# only) or a phone standing in text between boundaries ...
LEAKS = [
    "13800138000",
    "+86 138 0013 8000",
    "0086-138-0013-8000",
    "138-0013-8000",
    "+8613800138000",
    "(+86) 138-0013-8000",
    "(138) 0013-8000",
    " 15912345678 ",
    "call 13800138000 now",
    "电话13800138000谢谢",
    "手机：138 0013 8000",
    "tel 138-0013-8000, thanks",
    "call me at 13800138000.",
    "tel:13800138000",
    "联系 +86 159 1234 5678 (微信同号)",
    "line one\n13800138000",
]
# ... and never an identifier whose digits are glued to letters or id punctuation.
NOT_PHONES = [
    "ev-13800138000",
    "ev-13000615000",
    "order-15912345678",
    "group_join:wrOgQhDgAA13800138000:wm13800138000:13800138000x",
    "group_join:wr1:wm1:13800138000_1",
    "wm13800138000",
    "m_0139000012340000",
    "m_13fc71843766b2f3",
    "ev-86-13800138000",
    "ev-8613800138000",
    "order-138-0013-8000",
    "13800138000abc",
    "13800138000.5",
    "138001380001",
    "913800138000",
    "12800138000",
    "0013800138000",
    "2026-05-18 13:45:00",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "https://example.cn/p/13800138000/detail",
    "",
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


@pytest.mark.parametrize("value", LEAKS)
def test_phone_pattern_catches_a_phone(con, value):
    assert con.execute("select regexp_matches(?, ?)", [value, PHONE_PATTERN]).fetchone()[0], value


@pytest.mark.parametrize("value", NOT_PHONES)
def test_phone_pattern_ignores_identifiers(con, value):
    assert not con.execute("select regexp_matches(?, ?)", [value, PHONE_PATTERN]).fetchone()[0], value


def _warehouse(path, member_values: list[tuple[str, str]], extra_sql: tuple[str, ...] = ()) -> str:
    con = duckdb.connect(str(path))
    ensure_raw_schema(con)
    con.execute("""insert into raw.wecom_contacts values ('2026-05-18', 'f', 1, now()::timestamp, 'wmA',
                   '{"external_userid": "wmA", "name": "周先生"}', '[]')""")
    con.execute("""insert into raw.wecom_messages values ('2026-05-18', 'f', 1, now()::timestamp, 'm1', 'send', 'wmA',
                   '[]', 'r1', 1779066000000, 'text', '{"text": {"content": "有三人位的吗"}}')""")
    con.execute("create schema marts")
    con.execute("create table marts.dim_member (member_id varchar, first_channel varchar, tags varchar[])")
    con.executemany("insert into marts.dim_member values (?, ?, ['oa_tag:100', '全屋定制'])", member_values)
    for sql in extra_sql:
        con.execute(sql)
    con.close()
    return str(path)


def _scan(db: str):
    return validate_table(db, pii_scan_suite(mart_text_columns(db)), build_docs=False)


def test_pii_scan_passes_on_clean_marts(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("m_0139000012340000", "mini_program")])
    outcome = _scan(db)
    assert outcome.success and outcome.evaluated_expectations == 1, outcome.summary()


def test_pii_scan_fails_on_phone_name_and_text(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("m_1", "+86 13900001234"), ("m_2", "周先生"), ("m_3", "有三人位的吗")])
    outcome = _scan(db)
    assert not outcome.success
    assert len(outcome.failed) == 1 and not outcome.failed[0].errored, outcome.summary()  # a verdict, not an error
    reason = outcome.failed[0].reason
    assert "3 unexpected rows" in reason, reason
    for kind in ("phone number", "WeCom display name", "message text"):
        assert f"'column': 'first_channel', 'kind': '{kind}', 'values': 1" in reason, reason
    assert "13900001234" not in reason and "周先生" not in reason  # the report never repeats the PII


def _probe_marts(values: list[str]) -> tuple[str, ...]:
    """Every value in its own column of a wide mart, plus ids in the event-id columns of the real marts."""
    cols = ", ".join(f"c{i:02d} varchar" for i in range(len(values)))
    literals = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return (
        f"create table marts.probe ({cols})",
        f"insert into marts.probe values ({literals})",
        # the identifiers that failed the 100k-member build
        "create table marts.fct_touchpoint_events as select 'ev-' || (13000615000 + i) as event_id, "
        "'m_13fc71843766b2f3' as member_id from range(50) t(i)",
        "create table marts.fct_member_funnel as select 'ev-13800138000' as exposure_event_id",
        "create table marts.order_attribution as select 'ev-15912345678' as event_id, 'order-15912345678' as order_no",
    )


def test_pii_scan_ignores_identifiers_in_every_mart(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("m_0139000012340000", "group_join:wr1:wm13800138000:x")],
                    _probe_marts(NOT_PHONES))
    outcome = _scan(db)
    assert outcome.success and outcome.evaluated_expectations == 1, outcome.summary()


def test_pii_scan_catches_each_phone_in_any_mart_column(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("m_1", "mini_program")], _probe_marts(LEAKS + NOT_PHONES))
    outcome = _scan(db)
    assert not outcome.success
    assert len(outcome.failed) == 1 and not outcome.failed[0].errored, outcome.summary()
    reason = outcome.failed[0].reason
    assert f"{len(LEAKS)} unexpected rows" in reason, reason  # one row per leaking column, ids not among them
    for i in range(min(len(LEAKS), 5)):  # the sample in the reason names mart and column
        assert f"'mart': 'probe', 'column': 'c{i:02d}', 'kind': 'phone number'" in reason, reason


def test_pii_scan_reads_list_columns(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", [("m_1", "mini_program")],
                    ("update marts.dim_member set tags = ['vip', '138 0013 8000']",))
    outcome = _scan(db)
    assert not outcome.success, outcome.summary()
    assert "'column': 'tags', 'kind': 'phone number'" in outcome.failed[0].reason


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
    assert "expect_no_unexpected_rows:" in failed  # monotonic
    assert "expect_column_values_to_be_between:lead_rate" in failed
    assert not any(f.errored for f in outcome.failed)


def test_touchpoint_suite_catches_duplicates_and_orphans(tmp_path):
    """The uniqueness and referential checks (GROUP BY / NOT EXISTS in DuckDB) fail on bad rows."""
    db = str(tmp_path / "t.duckdb")
    con = duckdb.connect(db)
    con.execute("create schema marts")
    con.execute("create schema raw")
    con.execute("create table raw._load_log as select 'tracking' as source, date '2026-05-18' as dt")
    con.execute("create table marts.dim_member as select 'm_1' as member_id")
    con.execute("""create table marts.fct_touchpoint_events as select * from (values
        ('ev-1', 'm_1'), ('ev-1', 'm_1'), ('ev-2', 'm_404')) t(event_id, member_id)""")
    con.execute("""alter table marts.fct_touchpoint_events add column event_at timestamp default now()::timestamp""")
    con.execute("alter table marts.fct_touchpoint_events add column business_date date default date '2026-05-18'")
    con.execute("alter table marts.fct_touchpoint_events add column channel varchar default 'ads'")
    con.close()
    outcome = validate_table(db, MART_SUITES["fct_touchpoint_events"], build_docs=False)
    assert not outcome.success and not any(f.errored for f in outcome.failed), outcome.summary()
    by_column = {f.column: f.reason for f in outcome.failed}
    assert "'event_id': 'ev-1', 'n': 2" in by_column["event_id"], outcome.summary()
    orphans = [f.reason for f in outcome.failed if "dim_member" in f.reason]
    assert orphans and "'member_id': 'm_404'" in orphans[0], outcome.summary()
    assert outcome.successful_expectations == outcome.evaluated_expectations - 2
