"""The operator queries (queries/*.sql) against a published warehouse built by `siyu build` from
one small landing folder whose answers are computed by hand below.

The latest business date D is 2026-05-31 (the last group snapshot); "this month" is May 2026.

Members (letters; tracking members carry unionid u_<X> and distinct_id d_<X>, group members
are WeCom external contacts wm<X>):
* A — xiaohongshu_kol / cmp-x: exposure 05-02 10:00 → interest → lead 05-03 → deal 05-04 10:00
      (48 h); a second order 05-20: repeat buyer, net GMV 1000 + 500.
* B — xiaohongshu_kol / cmp-x: exposure 05-05 10:00 → … → deal 05-15 10:00 (240 h); paid 2000,
      refunded 200: net 1800.
* C — douyin_kol / cmp-y: exposure 04-10 10:00 → … → deal 04-11 22:00 (36 h); second order 05-08:
      net 300 + 200.
* E — oa_service: push delivered and opened 04-05 (interest).      F — oa_service: exposure 05-10.
* G — added by staff_amy on WeCom 04-20 (first touch wecom_1v1), then wecom_moments exposure
      04-21 → interest → lead 04-22, no deal: a lead drop-off whose window closed 05-21.
* H — video_channel exposure 05-25 → interest → lead 05-26, no deal: window still open.
* P1, P2, Q1, R1, R2, S1, T1, U1 — group members (first touch wecom_group). Invites: P1 → P2
  (g_dead, 04-03), R1 → R2 (g_decl, 05-02), R1 → S1 (g_active, 05-03), Q1 → T1 (g_launch,
  05-28). P2 buys 600 (05-20), R2 buys 800 (05-26).

Groups at D: g_dead (created 04-01, last member message 04-05: dead, 2 members), g_silent
(created 05-10, message 05-15: silent), g_decl (4 messages 05-18…05-21, 1 on 05-26: declining),
g_active (2 and 2: active), g_launch (created 05-28), g_gone (dissolved 05-10).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.harness import query
from tests.landing import event, ms, sec, write_costs, write_jsonl, write_orders

REPO = Path(__file__).resolve().parents[1]
QUERIES = REPO / "queries"
D = "2026-05-31"


def ev(eid: str, member: str, name: str, local: str, channel: str, **props: str) -> dict:
    return event(eid, name, local, channel, distinct_id=f"d_{member}", identities={"unionid": f"u_{member}"}, **props)


# group -> (owner, creation time)
GROUPS = {
    "g_dead": ("staff_amy", "2026-04-01 10:00"),
    "g_gone": ("staff_bob", "2026-04-01 10:00"),
    "g_decl": ("staff_cat", "2026-05-01 10:00"),
    "g_active": ("staff_cat", "2026-05-01 10:00"),
    "g_silent": ("staff_dan", "2026-05-10 10:00"),
    "g_launch": ("staff_dan", "2026-05-28 10:00"),
}
# (group, member, join time, join scene, invitor member, unionid)
JOINS = [
    ("g_dead", "P1", "2026-04-01 11:00", 3, None, None),
    ("g_dead", "P2", "2026-04-03 11:00", 1, "P1", "u_P2"),
    ("g_gone", "U1", "2026-04-01 11:00", 3, None, None),
    ("g_decl", "R1", "2026-05-01 11:00", 3, None, None),
    ("g_decl", "R2", "2026-05-02 11:00", 1, "R1", "u_R2"),
    ("g_active", "S1", "2026-05-03 11:00", 1, "R1", None),
    ("g_silent", "Q1", "2026-05-10 11:00", 3, None, None),
    ("g_launch", "T1", "2026-05-28 11:00", 1, "Q1", None),
]
# snapshot day -> groups in it (g_gone is absent from 05-10 on: dissolved 05-10)
SNAPSHOTS = {
    "2026-04-01": ["g_dead", "g_gone"],
    "2026-05-01": ["g_dead", "g_gone", "g_decl", "g_active"],
    "2026-05-10": ["g_dead", "g_decl", "g_active", "g_silent"],
    "2026-05-28": ["g_dead", "g_decl", "g_active", "g_silent", "g_launch"],
    "2026-05-31": ["g_dead", "g_decl", "g_active", "g_silent", "g_launch"],
}
# (sender, group, local time)
MESSAGES = [
    ("P1", "g_dead", "2026-04-05 10:00"),
    ("U1", "g_gone", "2026-04-10 10:00"),
    ("Q1", "g_silent", "2026-05-15 10:00"),
    ("R1", "g_decl", "2026-05-18 10:00"), ("R1", "g_decl", "2026-05-19 10:00"),
    ("R2", "g_decl", "2026-05-20 10:00"), ("R2", "g_decl", "2026-05-21 10:00"),
    ("R1", "g_decl", "2026-05-26 10:00"),
    ("S1", "g_active", "2026-05-20 10:00"), ("S1", "g_active", "2026-05-21 10:00"),
    ("S1", "g_active", "2026-05-27 10:00"), ("S1", "g_active", "2026-05-28 10:00"),
    ("staff_amy", "g_dead", "2026-05-30 10:00"),  # staff chatter keeps nothing alive
]


def _snapshot(group: str, day: str) -> dict:
    owner, created = GROUPS[group]
    members = [{"userid": owner, "type": 1, "join_time": sec(created), "join_scene": 1}]
    for g, member, joined, scene, invitor, unionid in JOINS:
        if g == group and joined[:10] <= day:
            entry = {"userid": f"wm{member}", "type": 2, "join_time": sec(joined), "join_scene": scene}
            if invitor:
                entry["invitor"] = {"userid": f"wm{invitor}"}
            if unionid:
                entry["unionid"] = unionid
            members.append(entry)
    return {"errcode": 0, "errmsg": "ok", "group_chat": {
        "chat_id": group, "name": f"{group}福利群", "owner": owner, "create_time": sec(created),
        "member_list": members, "admin_list": []}}


def _order(order_no: str, unionid: str, paid: str, paid_amount: str, refund: str = "0.00") -> dict:
    return {"order_no": order_no, "status": "TRADE_SUCCESS", "created_at": paid, "paid_at": paid, "updated_at": paid,
            "buyer_unionid": unionid, "platform": "mini_program", "total_amount": paid_amount,
            "discount_amount": "0.00", "paid_amount": paid_amount, "refund_amount": refund, "items": "[]"}


def write_landing(root: Path) -> Path:
    tracking = [
        # A, B: xiaohongshu_kol / cmp-x, deals after 48 h and 240 h
        ev("a1", "A", "content_impression", "2026-05-02 10:00", "xiaohongshu_kol", campaign_id="cmp-x"),
        ev("a2", "A", "product_view", "2026-05-02 11:00", "mini_program"),
        ev("a3", "A", "appointment_booked", "2026-05-03 10:00", "mini_program"),
        ev("b1", "B", "content_impression", "2026-05-05 10:00", "xiaohongshu_kol", campaign_id="cmp-x"),
        ev("b2", "B", "product_view", "2026-05-05 12:00", "mini_program"),
        ev("b3", "B", "form_submit", "2026-05-06 10:00", "mini_program"),
        # C: douyin_kol / cmp-y, deal after 36 h
        ev("c1", "C", "content_impression", "2026-04-10 10:00", "douyin_kol", campaign_id="cmp-y"),
        ev("c2", "C", "product_view", "2026-04-10 11:00", "mini_program"),
        ev("c3", "C", "coupon_claim", "2026-04-11 09:00", "mini_program"),
        # E, F: oa_service pushes
        ev("e1", "E", "push_delivered", "2026-04-05 10:00", "oa_service"),
        ev("e2", "E", "push_opened", "2026-04-05 12:00", "oa_service"),
        ev("f1", "F", "push_delivered", "2026-05-10 10:00", "oa_service"),
        # G: a lead drop-off (window closed); H: a lead drop-off (window open)
        event("g1", "moments_impression", "2026-04-21 10:00", "wecom_moments", distinct_id="d_G",
              identities={"unionid": "u_G", "external_userid": "wmG"}),
        ev("g2", "G", "link_click", "2026-04-21 11:00", "wecom_moments"),
        ev("g3", "G", "form_submit", "2026-04-22 10:00", "wecom_moments"),
        ev("h1", "H", "content_impression", "2026-05-25 10:00", "video_channel"),
        ev("h2", "H", "product_view", "2026-05-25 11:00", "mini_program"),
        ev("h3", "H", "consultation", "2026-05-26 10:00", "wecom_1v1"),
        # later pushes (reach): oa_service 05-01 (outside the last 30 days), 05-02 (inside), 05-12
        ev("c4", "C", "push_delivered", "2026-05-01 10:00", "oa_service"),
        ev("c5", "C", "push_opened", "2026-05-02 10:00", "oa_service"),
        ev("r1", "A", "push_delivered", "2026-05-12 10:00", "oa_service"),
        ev("r2", "A", "push_opened", "2026-05-12 10:30", "oa_service"),
        ev("r3", "B", "push_delivered", "2026-05-12 10:00", "oa_service"),
        ev("r4", "C", "push_delivered", "2026-05-12 10:00", "oa_service"),
        ev("r5", "A", "push_delivered", "2026-05-15 10:00", "oa_subscription"),
        ev("r6", "B", "push_delivered", "2026-05-15 10:00", "oa_subscription"),
    ]
    by_day: dict[str, list[dict]] = {}
    for record in tracking:  # partition = Shanghai day of the event
        day = _shanghai_day(record["time"])
        by_day.setdefault(day, []).append(record)
    for day, records in by_day.items():
        write_jsonl(root, "tracking", day, records)

    write_jsonl(root, "wecom_contacts", "2026-04-20", [{
        "errcode": 0, "errmsg": "ok",
        "external_contact": {"external_userid": "wmG", "name": "某客户", "type": 1, "unionid": "u_G"},
        "follow_user": [{"userid": "staff_amy", "createtime": sec("2026-04-20 10:00"), "add_way": 1,
                         "state": "store-01", "tags": [], "remark_mobiles": []}]}])

    for day, groups in SNAPSHOTS.items():
        write_jsonl(root, "wecom_groups", day, [_snapshot(g, day) for g in groups])
    messages: dict[str, list[dict]] = {}
    for i, (sender, group, local) in enumerate(MESSAGES):
        messages.setdefault(local[:10], []).append({
            "msgid": f"msg-{i}", "action": "send", "from": sender if sender.startswith("staff") else f"wm{sender}",
            "tolist": [], "roomid": group, "msgtime": ms(local), "msgtype": "text", "text": {"content": "你好"}})
    for day, records in messages.items():
        write_jsonl(root, "wecom_messages", day, records)

    orders = [
        _order("O-C1", "u_C", "2026-04-11 22:00:00", "300.00"),
        _order("O-A1", "u_A", "2026-05-04 10:00:00", "1000.00"),
        _order("O-C2", "u_C", "2026-05-08 10:00:00", "200.00"),
        _order("O-B1", "u_B", "2026-05-15 10:00:00", "2000.00", refund="200.00"),
        _order("O-A2", "u_A", "2026-05-20 10:00:00", "500.00"),
        _order("O-P2", "u_P2", "2026-05-20 12:00:00", "600.00"),
        _order("O-R2", "u_R2", "2026-05-26 12:00:00", "800.00"),
    ]
    for o in orders:
        write_orders(root, o["paid_at"][:10], [o], name=f"{o['order_no']}.csv")

    for dt, campaign, channel, cost in [("2026-04-10", "cmp-y", "douyin_kol", "500.00"),
                                        ("2026-05-01", "cmp-y", "douyin_kol", "300.00"),
                                        ("2026-05-02", "cmp-x", "xiaohongshu_kol", "600.00"),
                                        ("2026-05-05", "cmp-x", "xiaohongshu_kol", "400.00"),
                                        ("2026-05-20", "cmp-z", "sms", "250.00")]:
        write_costs(root, dt, [(dt, campaign, channel, cost)])
    return root


def _shanghai_day(epoch_ms: int) -> str:
    from tests.landing import SHANGHAI
    return datetime.fromtimestamp(epoch_ms / 1000, tz=SHANGHAI).date().isoformat()


# ---------------------------------------------------------------------------------------------
# fixtures and helpers

COVERED: set[str] = set()


def covers(*files: str):
    """Mark a test as the check of queries/<file>; test_every_query_is_tested lists the folder."""
    COVERED.update(files)
    return lambda fn: fn


@pytest.fixture(scope="module")
def warehouse(operator_build: tuple[Path, Path]) -> Path:
    """The published warehouse of this module's landing, with the dbt docs site this module checks
    (built once per session: tests/conftest.py `operator_build`)."""
    return operator_build[1]


@pytest.fixture(scope="module")
def who(warehouse: Path) -> dict[str, str]:
    """member_id -> letter, through the identity map (tests may look below the marts)."""
    rows = query(warehouse, """select member_id, identifier from intermediate.int_identity_map
                               where identifier like 'unionid:u\\_%' escape '\\' or identifier like 'external_userid:wm%'""")
    out: dict[str, str] = {}
    for member_id, identifier in rows:
        letter = identifier.split(":", 1)[1].removeprefix("u_").removeprefix("wm")
        out.setdefault(member_id, letter)
    return out


def run(warehouse: Path, name: str) -> tuple[list[str], list[tuple]]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute((QUERIES / name).read_text(encoding="utf-8"))
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        con.close()


def as_dicts(warehouse: Path, name: str) -> list[dict]:
    columns, rows = run(warehouse, name)
    return [dict(zip(columns, row)) for row in rows]


# ---------------------------------------------------------------------------------------------
# one test per query file


@covers("channel_buyers.sql")
def test_channel_buyers(warehouse: Path) -> None:
    columns, rows = run(warehouse, "channel_buyers.sql")
    assert columns[:6] == ["first_channel", "members", "buyers", "buyer_rate", "repeat_buyers", "net_gmv"]
    assert [r[:6] for r in rows] == [
        ("xiaohongshu_kol", 2, 2, 1.0, 1, Decimal("3300.00")),   # A 1000+500, B 2000−200
        ("wecom_group", 8, 2, 0.25, 0, Decimal("1400.00")),      # P2 600, R2 800 of 8 group members
        ("douyin_kol", 1, 1, 1.0, 1, Decimal("500.00")),         # C 300+200
        ("oa_service", 2, 0, 0.0, 0, Decimal("0.00")),           # E, F
        ("video_channel", 1, 0, 0.0, 0, Decimal("0.00")),        # H
        ("wecom_1v1", 1, 0, 0.0, 0, Decimal("0.00")),            # G: the staff add comes first
    ]
    assert rows[0][6] == Decimal("1650.00")


@covers("funnel_leak_month_over_month.sql")
def test_funnel_leak_month_over_month(warehouse: Path) -> None:
    _, rows = run(warehouse, "funnel_leak_month_over_month.sql")
    may, april = date(2026, 5, 1), date(2026, 4, 1)
    # April cohorts: C (deal), E (interest), G (lead); May: A, B (deal), F (exposure), H (lead)
    assert rows == [
        (may, 1, "exposure_to_interest", 4, 3, 1, 0.75, -0.25),
        (may, 2, "interest_to_lead", 3, 3, 0, 1.0, 0.3333),
        (may, 3, "lead_to_deal", 3, 2, 1, 0.6667, 0.1667),
        (april, 1, "exposure_to_interest", 3, 3, 0, 1.0, None),
        (april, 2, "interest_to_lead", 3, 2, 1, 0.6667, None),
        (april, 3, "lead_to_deal", 2, 1, 1, 0.5, None),
    ]


@covers("time_to_deal_by_channel.sql")
def test_time_to_deal_by_channel(warehouse: Path) -> None:
    _, rows = run(warehouse, "time_to_deal_by_channel.sql")
    # douyin_kol: C 36 h; xiaohongshu_kol: A 48 h, B 240 h → p50 144 h, p90 48 + 0.9 × 192 = 220.8 h
    assert rows == [
        ("douyin_kol", 1, 36.0, 36.0, 1.5, 1.5),
        ("xiaohongshu_kol", 2, 144.0, 220.8, 6.0, 9.2),
    ]


@covers("groups_to_rebuild.sql")
def test_groups_to_rebuild(warehouse: Path) -> None:
    rows = as_dicts(warehouse, "groups_to_rebuild.sql")
    got = [(r["group_id"], r["owner_userid"], r["lifecycle_stage"], r["members_now"], r["age_days"],
            r["last_member_message_at"], r["days_since_last_member_message"], r["member_messages_7d"],
            r["member_messages_prior_7d"]) for r in rows]
    # g_gone is dead but already dissolved; g_active and g_launch are healthy; staff chatter in
    # g_dead on 05-30 does not count. Times are UTC (Shanghai − 8 h).
    assert got == [
        ("g_dead", "staff_amy", "dead", 2, 60, datetime(2026, 4, 5, 2, 0), 56, 0, 0),
        ("g_silent", "staff_dan", "silent", 1, 21, datetime(2026, 5, 15, 2, 0), 16, 0, 0),
        ("g_decl", "staff_cat", "declining", 2, 30, datetime(2026, 5, 26, 2, 0), 5, 1, 4),
    ]


@covers("one_to_one_care.sql")
def test_one_to_one_care(warehouse: Path, who: dict[str, str]) -> None:
    rows = as_dicts(warehouse, "one_to_one_care.sql")
    got = [(who[r["member_id"]], r["reason"], r["group_id"], r["contact_staff"], r["last_active_date"],
            r["is_current_member"], r["is_window_closed"]) for r in rows]
    assert got == [
        # active in D−59 … D−30, silent in D−29 … D (U1's group has been dissolved since)
        ("U1", "formerly_active_now_silent", "g_gone", "staff_bob", date(2026, 4, 10), False, None),
        ("P1", "formerly_active_now_silent", "g_dead", "staff_amy", date(2026, 4, 5), True, None),
        # stuck at lead: H can still convert (window open), G's window closed on 05-21
        ("H", "lead_without_deal", None, None, date(2026, 5, 26), None, False),
        ("G", "lead_without_deal", None, "staff_amy", date(2026, 4, 22), None, True),
    ]


@covers("koc_members.sql")
def test_koc_members(warehouse: Path, who: dict[str, str]) -> None:
    rows = as_dicts(warehouse, "koc_members.sql")
    got = [(who[r["member_id"]], r["members_invited"], r["invitees_who_bought"], r["invitee_buyer_rate"],
            r["member_layer"]) for r in rows]
    # R1 invited R2 (bought) and S1; P1 invited P2 (bought); Q1's invitee T1 did not buy: no KOC
    assert got == [("R1", 2, 1, 0.5, "contributor"), ("P1", 1, 1, 1.0, "contributor")]


@covers("cohort_repurchase_ltv.sql")
def test_cohort_repurchase_ltv(warehouse: Path) -> None:
    _, rows = run(warehouse, "cohort_repurchase_ltv.sql")
    april, may = date(2026, 4, 1), date(2026, 5, 1)
    # April cohort: C, E, G, P1, P2, U1 (6). In May only C (order, push) and P2 (order) come back;
    # C is the repeat buyer; GMV 300 → 300 + 200 + 600 = 1100 → 183.33 per member.
    # May cohort: A, B, F, H, Q1, R1, R2, S1, T1 (9); A repeats; 1500 + 1800 + 800 = 4100 → 455.56.
    assert rows == [
        (april, 0, april, 6, 6, 1.0, 0, 0.0, Decimal("300.00"), Decimal("50.00")),
        (april, 1, may, 6, 2, 0.3333, 1, 0.1667, Decimal("1100.00"), Decimal("183.33")),
        (may, 0, may, 9, 9, 1.0, 1, 0.1111, Decimal("4100.00"), Decimal("455.56")),
    ]


@covers("open_rate_by_channel.sql")
def test_open_rate_by_channel(warehouse: Path) -> None:
    _, rows = run(warehouse, "open_rate_by_channel.sql")
    # last 30 days = 05-02 … 05-31: oa_service delivered F, A, B, C, opened C (05-02) and A;
    # E's April push and C's delivery on 05-01 (D−30) fall outside.
    assert rows == [("oa_service", 4, 2, 0.5), ("oa_subscription", 2, 0, 0.0)]


@covers("cac_roi_by_campaign.sql")
def test_cac_roi_by_campaign(warehouse: Path) -> None:
    _, rows = run(warehouse, "cac_roi_by_campaign.sql")
    assert rows == [
        # cmp-x: 600 + 400 spent, A and B acquired, GMV 3300 → CAC 500, ROI 2.3
        ("cmp-x", "xiaohongshu_kol", Decimal("1000.00"), 2, 2, Decimal("3300.00"), Decimal("500.00"), 2.3),
        # cmp-y: 500 (April, C) + 300 (May, nobody) → CAC 800, GMV 500 → ROI −0.375
        ("cmp-y", "douyin_kol", Decimal("800.00"), 1, 1, Decimal("500.00"), Decimal("800.00"), -0.375),
        # cmp-z: spend without members
        ("cmp-z", "sms", Decimal("250.00"), 0, 0, Decimal("0.00"), None, -1.0),
    ]


def test_every_query_is_tested() -> None:
    files = {p.name for p in QUERIES.glob("*.sql")}
    assert files, "queries/ holds no .sql file"
    assert files == COVERED, f"untested: {sorted(files - COVERED)}; tested but missing: {sorted(COVERED - files)}"


def test_every_query_is_documented_and_reads_marts_only() -> None:
    readme = (QUERIES / "README.md").read_text(encoding="utf-8")
    for path in sorted(QUERIES.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        header = text.split("\n\n", 1)[0]
        assert header.startswith("-- Question:"), path.name
        assert re.search(r"[\u4e00-\u9fff]", header), f"{path.name}: no Chinese operator term in the header"
        assert f"`{path.name}`" in readme, f"{path.name} missing from queries/README.md"
        schemas = set(re.findall(r"\b(raw|staging|intermediate|reference|main)\.\w+", text))
        assert not schemas, f"{path.name} reads below the marts: {schemas}"


# ---------------------------------------------------------------------------------------------
# docs: descriptions persisted into DuckDB, the dbt docs site and the exposures


def _yaml_model(name: str) -> dict:
    import yaml

    for path in (REPO / "dbt_project" / "models" / "marts").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            if model["name"] == name:
                return model
    raise KeyError(name)


@pytest.mark.parametrize("mart", ["dim_member", "group_member_activity"])
def test_descriptions_persisted_into_duckdb(warehouse: Path, mart: str) -> None:
    model = _yaml_model(mart)
    (table_comment,) = query(warehouse, "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?",
                             [mart])[0]
    assert table_comment.strip() == model["description"].strip()
    comments = dict(query(warehouse, """select column_name, comment from duckdb_columns()
                                        where schema_name = 'marts' and table_name = ?""", [mart]))
    expected = {c["name"]: c["description"].strip() for c in model["columns"]}
    assert {k: (v or "").strip() for k, v in comments.items()} == expected


def test_dbts_node_lines_go_to_the_build_log_and_no_file_log_is_kept(warehouse: Path) -> None:
    build_log = (warehouse.parent / "logs" / "siyu-build.log").read_text(encoding="utf-8")
    assert re.search(r"\b\d+ of \d+ OK created sql table model marts\.dim_member\b", build_log), build_log[-2000:]
    profile = json.loads((warehouse.parent / "logs" / "last-build-profile.json").read_text(encoding="utf-8"))
    run_target = Path(profile["dbt"]["run_results"]).parent
    assert (run_target / "run_results.json").is_file() and not (run_target / "dbt.log").exists()


def test_dbt_docs_site_published_beside_the_warehouse(warehouse: Path) -> None:
    site = warehouse.parent / "dbt_docs"
    for name in ("index.html", "manifest.json", "catalog.json"):
        assert (site / name).is_file(), name
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    # the compiled SQL the site shows is the build's: a build of every node lends its manifest to the docs
    # (`--no-compile`), whose own invocation writes the catalog only
    profile = json.loads((warehouse.parent / "logs" / "last-build-profile.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["invocation_id"] == profile["dbt"]["invocation_id"]
    compiled = manifest["nodes"]["model.siyu.dim_member"]["compiled_code"]
    assert '"intermediate"."int_' in compiled and "{{" not in compiled  # refs resolved, no Jinja left
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    dashboard = exposures["operator_dashboard"]
    assert dashboard["type"] == "dashboard"
    assert {n.split(".")[-1] for n in dashboard["depends_on"]["nodes"]} == {
        "funnel_daily", "fct_member_funnel", "funnel_time_to_convert", "member_layers_daily", "group_survival",
        "group_daily", "dim_group", "channel_reach", "cohort_retention", "channel_performance"}
    analyses = {name for name, e in exposures.items() if e["type"] == "analysis"}
    assert analyses == {"q_" + p.stem for p in QUERIES.glob("*.sql")}  # one exposure per operator query
    catalog = json.loads((site / "catalog.json").read_text(encoding="utf-8"))
    assert catalog["metadata"]["invocation_id"] != profile["dbt"]["invocation_id"]
    dim_member = catalog["nodes"]["model.siyu.dim_member"]
    assert dim_member["metadata"]["schema"] == "marts"
    assert dim_member["metadata"]["comment"].strip() == _yaml_model("dim_member")["description"].strip()
    assert "member_id" in dim_member["columns"]
