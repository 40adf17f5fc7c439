"""End to end through the real path (siyu build: raw load → dbt → GE checks → publish) on a
small landing folder whose answers are computed by hand below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness import build_warehouse, query, working_db
from tests.landing import event, write_jsonl, write_orders

UNION = {c: {"unionid": f"u_{c}"} for c in "ABCDEFG"}


def ev(eid: str, member: str, name: str, local: str, channel: str, **props: str) -> dict:
    return event(eid, name, local, channel, distinct_id=f"d_{member}", identities=UNION[member], **props)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    day1 = [
        # A: exposure → interest → lead → deal (order paid 05-10): reaches deal
        ev("a1", "A", "content_impression", "2026-05-01 10:00", "xiaohongshu_kol", campaign_id="cmp-1"),
        ev("a2", "A", "product_view", "2026-05-01 10:05", "mini_program", campaign_id="cmp-1"),
        # B: interest exactly 30 days after exposure counts; the lead 1 ms later is outside the window
        ev("b1", "B", "push_delivered", "2026-05-01 11:00", "oa_service"),
        # D: interest before exposure does not count; exposure just after midnight → cohort 05-02
        ev("d1", "D", "article_read", "2026-05-01 23:00", "oa_subscription"),
        ev("d2", "D", "moments_impression", "2026-05-02 00:30", "wecom_moments"),
        # E: no exposure at all: not in the funnel
        ev("e1", "E", "product_view", "2026-05-01 12:00", "mini_program"),
        # G: exposure, interest, a paid order (05-02) BEFORE the lead (05-03): stops at lead
        ev("g1", "G", "content_impression", "2026-05-01 08:00", "xiaohongshu_kol", campaign_id="cmp-1"),
        ev("g2", "G", "link_click", "2026-05-01 08:10", "wecom_group"),
        '{"event_id": "bad1", "event": "product_view", "time": 17776',  # truncated line
        json.dumps(ev("bad2", "A", "product_view", "2026-05-01 10:06", "mini_program") | {"time": 1777601160}),  # seconds
    ]
    write_jsonl(root, "tracking", "2026-05-01", day1)
    # C: written out of order; its interest arrives late, two days after its day
    write_jsonl(root, "tracking", "2026-05-02", [
        ev("c3", "C", "form_submit", "2026-05-02 10:00", "douyin_kol"),
        ev("c1", "C", "content_impression", "2026-05-02 08:00", "douyin_kol"),
        ev("a3", "A", "appointment_booked", "2026-05-03 09:00", "mini_program"),  # A's lead (上门量房)
        ev("g4", "G", "consultation", "2026-05-03 09:00", "wecom_1v1"),
    ])
    write_jsonl(root, "tracking", "2026-05-04", [
        ev("c2", "C", "miniprogram_visit", "2026-05-02 09:00", "mini_program"),  # late event
        ev("a1", "A", "content_impression", "2026-05-01 10:00", "xiaohongshu_kol", campaign_id="cmp-1"),  # re-sent duplicate
        # F: a lead without interest: stays at exposure
        ev("f1", "F", "live_view", "2026-05-05 20:00", "live"),
        ev("f2", "F", "coupon_claim", "2026-05-05 20:30", "live"),
    ])
    write_jsonl(root, "tracking", "2026-05-31", [
        ev("b2", "B", "push_opened", "2026-05-31 11:00", "oa_service"),
        event("b3", "form_submit", "2026-05-31 11:00:00.001", "oa_service", distinct_id="d_B", identities=UNION["B"]),
    ])
    order = {"status": "TRADE_SUCCESS", "platform": "mini_program", "total_amount": "5999.00",
             "discount_amount": "500.00", "paid_amount": "5499.00", "refund_amount": "0.00",
             "items": json.dumps([{"sku": "SF-3P", "title": "三人位布艺沙发", "qty": 1}], ensure_ascii=False)}
    write_orders(root, "2026-05-10", [
        order | {"order_no": "O-A", "buyer_unionid": "u_A", "created_at": "2026-05-10 11:58:00",
                 "paid_at": "2026-05-10 12:00:00", "updated_at": "2026-05-10 12:00:00"},
        order | {"order_no": "O-G", "buyer_unionid": "u_G", "created_at": "2026-05-02 09:00:00",
                 "paid_at": "2026-05-02 09:01:00", "updated_at": "2026-05-10 09:01:00", "paid_amount": "100.00",
                 "total_amount": "100.00", "discount_amount": "0.00"},
    ], encoding="gbk")
    return root


@pytest.fixture(scope="module")
def warehouse(landing, tmp_path_factory) -> Path:
    return build_warehouse(landing, tmp_path_factory.mktemp("build"))


def test_funnel_stage_counts(warehouse):
    totals = query(warehouse, """select sum(exposure_members), sum(interest_members), sum(lead_members), sum(deal_members)
                                 from marts.funnel_daily""")[0]
    assert totals == (6, 4, 3, 1)


def test_funnel_per_member(warehouse):
    rows = dict(query(warehouse, """select d.first_channel || '/' || f.funnel_stage, count(*) from marts.fct_member_funnel f
                                    join marts.dim_member d using (member_id) group by 1"""))
    stages = dict(query(warehouse, """select m.identifier, f.funnel_stage from marts.fct_member_funnel f
        join intermediate.int_identity_map m using (member_id) where m.identifier_kind = 'unionid'"""))
    assert stages == {"unionid:u_A": "deal", "unionid:u_B": "interest", "unionid:u_C": "lead",
                      "unionid:u_D": "exposure", "unionid:u_F": "exposure", "unionid:u_G": "lead"}
    assert rows  # dim_member joins every funnel member


def test_window_edge_is_inclusive(warehouse):
    (seconds,) = query(warehouse, """select seconds_to_interest from marts.fct_member_funnel f
        join intermediate.int_identity_map m using (member_id) where m.identifier = 'unionid:u_B'""")[0]
    assert seconds == 30 * 86400


def test_cohort_breakdown(warehouse):
    rows = query(warehouse, """select cohort_date::varchar, channel, campaign_id, exposure_members, interest_members,
        lead_members, deal_members from marts.funnel_daily order by 1, 2""")
    assert rows == [
        ("2026-05-01", "oa_service", None, 1, 1, 0, 0),
        ("2026-05-01", "xiaohongshu_kol", "cmp-1", 2, 2, 2, 1),
        ("2026-05-02", "douyin_kol", None, 1, 1, 1, 0),
        ("2026-05-02", "wecom_moments", None, 1, 0, 0, 0),
        ("2026-05-05", "live", None, 1, 0, 0, 0),
    ]


def test_nothing_lost(warehouse, landing):
    lines_in = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in (landing / "tracking").rglob("*.jsonl"))
    loaded = query(warehouse, "select count(*) from raw.tracking")[0][0]
    reasons = query(warehouse, "select line, reason from raw.quarantine where source = 'tracking' order by line")
    assert loaded + len(reasons) == lines_in
    assert [line for line, _ in reasons] == [9, 10]
    assert reasons[0][1].startswith("malformed JSON")
    assert "before 2010-01-01" in reasons[1][1] and "seconds where milliseconds" in reasons[1][1]
    # the re-sent duplicate is loaded but deduplicated downstream, not quarantined
    assert query(warehouse, "select count(*) from staging.stg_tracking__events where event_id = 'a1'")[0][0] == 1


def test_gbk_orders_load_intact(warehouse):
    rows = query(warehouse, "select order_no, net_gmv::varchar, items->>'$[0].title' from raw.orders join marts.fct_orders using (order_no) order by 1")
    assert rows == [("O-A", "5499.00", "三人位布艺沙发"), ("O-G", "100.00", "三人位布艺沙发")]
    assert query(warehouse, "select count(*) from raw.quarantine where source = 'orders'")[0][0] == 0


def test_checks_ran_and_published(warehouse):
    # the published file holds the readers' layers only; the working database holds every layer
    schemas = {s for (s,) in query(warehouse, "select distinct schema_name from duckdb_tables()")}
    assert schemas == {"raw", "marts", "reference"}
    assert query(warehouse, "select table_name from duckdb_tables() where schema_name = 'raw'") == [("quarantine",)]
    private = {s for (s,) in query(working_db(warehouse), "select distinct schema_name from duckdb_tables()")}
    assert {"raw", "staging", "intermediate", "marts"} <= private
