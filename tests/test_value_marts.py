"""Value and funnel-variant marts with hand-computed answers (contracts §5, §6).

One landing dataset holds every case, each with its own ids:

* funnel edges — an interest exactly 30 days after the exposure (counts) and 30 days + 1 ms
  after (does not); interest before exposure; two exposures (the window starts at the
  first); a lead without interest; a deal before the lead; a member merged from two
  tracking ids whose events together complete the funnel; strict-funnel breaks;
* an order re-sent as partly refunded (net GMV); a multi-touch order (4 eligible touches at
  Δt = 30 d, 7 d, 1 d, 1 d, plus touches just outside the look-back and at/after paid_at);
  a direct order; an unresolved-buyer order; an unpaid order;
* a tiny February cohort for cohort_retention; one campaign for CAC / ROI.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.harness import build_with_dbt_only, query
from tests.landing import SHANGHAI, event, ms, write_costs, write_jsonl, write_orders

MARTS = ("order_attribution cohort_retention channel_performance fct_member_funnel_strict "
         "funnel_time_to_convert funnel_conversion_weekly funnel_dropoffs")
HALF_LIFE_DAYS = 7
DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# The multi-touch order: paid at P (Shanghai wall clock).
P = "2026-04-20 12:00:00"


def _shift(local: str, **delta) -> str:
    return (datetime.fromisoformat(local) + timedelta(**delta)).strftime("%Y-%m-%d %H:%M:%S")


def _ev(event_id, name, local, channel, did, ms_offset=0, identities=None, **props):
    record = event(event_id, name, local, channel, distinct_id=did, identities=identities, **props)
    record["time"] = ms(local) + ms_offset  # exact milliseconds (no float rounding)
    return record


def _order(order_no, *, paid, amount, refund="0.00", unionid=None, status="TRADE_SUCCESS",
           created=None, updated=None, platform="mini_program", campaign_id=None):
    created = created or (_shift(paid, minutes=-5) if paid else "2026-04-25 10:00:00")
    return {"order_no": order_no, "status": status, "created_at": created, "paid_at": paid or "",
            "updated_at": updated or paid or created, "buyer_unionid": unionid, "platform": platform,
            "campaign_id": campaign_id, "total_amount": amount, "discount_amount": "0.00",
            "paid_amount": amount if paid else "0.00", "refund_amount": refund, "items": "[]"}


def _events() -> list[dict]:
    u = lambda name: {"unionid": name}  # noqa: E731
    return [
        # --- funnel window edge: interest at exactly exposure + 30 d counts, + 30 d + 1 ms does not
        _ev("edge-1", "content_impression", "2026-04-01 10:00:00", "video_channel", "d-edge"),
        _ev("edge-2", "article_read", "2026-05-01 10:00:00", "video_channel", "d-edge"),
        _ev("edg2-1", "content_impression", "2026-04-01 10:00:00", "video_channel", "d-edg2"),
        _ev("edg2-2", "article_read", "2026-05-01 10:00:00", "video_channel", "d-edg2", ms_offset=1),
        # --- interest before exposure (no interest after it)
        _ev("ibe-1", "article_read", "2026-04-02 09:00:00", "oa_subscription", "d-ibe"),
        _ev("ibe-2", "push_delivered", "2026-04-02 10:00:00", "oa_subscription", "d-ibe"),
        # --- two exposures: the interest is 15 d after the second but 34 d after the first
        _ev("twoexp-1", "moments_impression", "2026-04-01 08:00:00", "wecom_moments", "d-twoexp"),
        _ev("twoexp-2", "moments_impression", "2026-04-20 08:00:00", "wecom_moments", "d-twoexp"),
        _ev("twoexp-3", "link_click", "2026-05-05 08:00:00", "wecom_moments", "d-twoexp"),
        # --- a lead without interest
        _ev("lni-1", "live_view", "2026-04-03 10:00:00", "live", "d-lni"),
        _ev("lni-2", "form_submit", "2026-04-04 10:00:00", "live", "d-lni"),
        # --- a deal before the lead (order DBL-1 paid 2026-04-06 10:00)
        _ev("dbl-1", "content_impression", "2026-04-05 10:00:00", "store", "d-dbl", identities=u("u-dbl")),
        _ev("dbl-2", "product_view", "2026-04-05 11:00:00", "store", "d-dbl"),
        _ev("dbl-3", "appointment_booked", "2026-04-07 10:00:00", "store", "d-dbl"),
        # --- merged member: d-mA (exposure, interest) + d-mB (interest, lead) + order, linked by unionid u-m
        _ev("mrg-1", "content_impression", "2026-04-08 10:00:00", "ads", "d-mA"),
        _ev("mrg-2", "link_click", "2026-04-08 12:00:00", "ads", "d-mA", identities=u("u-m")),
        _ev("mrg-3", "product_view", "2026-04-08 15:00:00", "mini_program", "d-mB"),
        _ev("mrg-4", "coupon_claim", "2026-04-09 10:00:00", "mini_program", "d-mB", identities=u("u-m")),
        # --- strict break at interest: a lead between the exposure and the first interest
        _ev("sib-1", "push_delivered", "2026-04-11 10:00:00", "oa_service", "d-sib"),
        _ev("sib-2", "consultation", "2026-04-11 11:00:00", "oa_service", "d-sib"),
        _ev("sib-3", "push_opened", "2026-04-11 12:00:00", "oa_service", "d-sib"),
        _ev("sib-4", "consultation", "2026-04-11 13:00:00", "oa_service", "d-sib"),
        # --- refund: one exposure, then order REF-1 (re-sent partly refunded)
        _ev("ref-1", "push_delivered", "2026-04-12 10:00:00", "oa_service", "d-ref", identities=u("u-ref")),
        # --- multi-touch attribution for order ATT-1 paid at P
        _ev("att-1", "content_impression", _shift(P, days=-30), "sms", "d-att", ms_offset=-1, identities=u("u-att")),
        _ev("att-2", "content_impression", _shift(P, days=-30), "xiaohongshu_kol", "d-att", campaign_id="cmp-x"),
        _ev("att-3", "link_click", _shift(P, days=-7), "wecom_group", "d-att"),
        _ev("att-4a", "push_delivered", _shift(P, days=-1), "oa_service", "d-att"),
        _ev("att-4b", "push_opened", _shift(P, days=-1), "oa_service", "d-att"),
        _ev("att-5", "article_read", P, "oa_service", "d-att"),
        _ev("att-6", "article_read", _shift(P, days=1), "oa_service", "d-att"),
        # --- direct: a touch 40 days before the order only
        _ev("dir-1", "content_impression", "2026-03-01 10:00:00", "douyin_kol", "d-dir", identities=u("u-dir")),
        # --- tiny February cohort
        _ev("c1-1", "live_view", "2026-02-03 10:00:00", "live", "d-c1", identities=u("u-c1")),
        _ev("c2-1", "content_impression", "2026-02-05 10:00:00", "store", "d-c2"),
        _ev("c2-2", "article_read", "2026-04-02 10:00:00", "store", "d-c2"),
        _ev("c3-1", "content_impression", "2026-02-28 23:30:00", "video_channel", "d-c3"),
        _ev("c3-2", "article_read", "2026-03-01 00:30:00", "video_channel", "d-c3"),  # business month March
        # --- campaign cmp-cac (douyin_kol): k1..k3 first touched by it, k4 first touched by another
        _ev("k1-1", "content_impression", "2026-04-01 10:00:00", "douyin_kol", "d-k1", identities=u("u-k1"), campaign_id="cmp-cac"),
        _ev("k1-2", "product_view", "2026-04-01 11:00:00", "douyin_kol", "d-k1", campaign_id="cmp-cac"),
        _ev("k1-3", "consultation", "2026-04-02 10:00:00", "douyin_kol", "d-k1", campaign_id="cmp-cac"),
        _ev("k2-1", "content_impression", "2026-04-02 10:00:00", "douyin_kol", "d-k2", campaign_id="cmp-cac"),
        _ev("k2-2", "product_view", "2026-04-02 13:00:00", "douyin_kol", "d-k2", campaign_id="cmp-cac"),
        _ev("k3-1", "content_impression", "2026-04-03 10:00:00", "douyin_kol", "d-k3", identities=u("u-k3"), campaign_id="cmp-cac"),
        _ev("k4-1", "content_impression", "2026-04-01 09:00:00", "ads", "d-k4", campaign_id="cmp-other"),
        _ev("k4-2", "content_impression", "2026-04-02 09:00:00", "douyin_kol", "d-k4", campaign_id="cmp-cac"),
    ]


def _orders() -> dict[str, list[dict]]:
    """Orders per landing partition."""
    return {
        "2026-02-10": [_order("C1-A", paid="2026-02-10 09:05:00", amount="100.00", unionid="u-c1")],
        "2026-03-15": [_order("C1-B", paid="2026-03-15 09:05:00", amount="50.00", unionid="u-c1")],
        "2026-04-03": [_order("K1-A", paid="2026-04-03 10:00:00", amount="1200.00", unionid="u-k1")],
        "2026-04-06": [_order("DBL-1", paid="2026-04-06 10:00:00", amount="300.00", unionid="u-dbl")],
        "2026-04-10": [_order("MRG-1", paid="2026-04-10 10:00:00", amount="880.00", unionid="u-m")],
        "2026-04-12": [_order("REF-1", paid="2026-04-12 20:00:00", amount="500.00", unionid="u-ref",
                              status="WAIT_SELLER_SEND_GOODS")],
        "2026-04-15": [_order("REF-1", paid="2026-04-12 20:00:00", amount="500.00", refund="200.00", unionid="u-ref",
                              created="2026-04-12 19:55:00", updated="2026-04-15 09:00:00")],
        "2026-04-20": [_order("ATT-1", paid=P, amount="1000.00", unionid="u-att")],
        "2026-04-22": [_order("DIR-1", paid="2026-04-22 10:00:00", amount="66.60", unionid="u-dir", platform="tmall"),
                       _order("ANON-1", paid="2026-04-22 11:00:00", amount="20.00", platform="store"),
                       _order("UNPAID-1", paid=None, amount="99.00", unionid="u-dir", status="WAIT_BUYER_PAY",
                              created="2026-04-22 12:00:00")],
    }


def _write_landing(root: Path) -> None:
    by_day: dict[str, list[dict]] = defaultdict(list)
    for record in _events():
        day = datetime.fromtimestamp(record["time"] / 1000, tz=SHANGHAI)
        by_day[day.strftime("%Y-%m-%d")].append(record)
    for day, records in by_day.items():
        write_jsonl(root, "tracking", day, records)
    for day, orders in _orders().items():
        write_orders(root, day, orders)
    # k3 added on WeCom by guide_01 (an interest event, and the staff owner of a drop-off)
    write_jsonl(root, "wecom_contacts", "2026-04-03", [{
        "errcode": 0, "errmsg": "ok",
        "external_contact": {"external_userid": "wm-k3", "name": "K3", "type": 1, "gender": 1, "unionid": "u-k3"},
        "follow_user": [{"userid": "guide_01", "createtime": ms("2026-04-03 12:00:00") // 1000, "add_way": 1,
                         "state": "qr-k3", "tags": [], "remark_mobiles": []}]}])
    # the first WeCom add: k4's earliest add came through no contact way (its state is null even
    # though a later add has one); k5 was added by two staff in the same second (the smaller userid)
    add = lambda userid, local, add_way, state: {  # noqa: E731
        "userid": userid, "createtime": ms(local) // 1000, "add_way": add_way, "state": state, "tags": [],
        "remark_mobiles": []}
    write_jsonl(root, "wecom_contacts", "2026-04-05", [
        {"errcode": 0, "errmsg": "ok",
         "external_contact": {"external_userid": "wm-k4", "name": "K4", "type": 1, "gender": 1},
         "follow_user": [add("guide_01", "2026-04-05 10:00:00", 1, "qr-k4"),
                         add("guide_02", "2026-04-05 09:00:00", 2, None)]},
        {"errcode": 0, "errmsg": "ok",
         "external_contact": {"external_userid": "wm-k5", "name": "K5", "type": 1, "gender": 2},
         "follow_user": [add("guide_02", "2026-04-05 09:00:00", 1, "qr-b"),
                         add("guide_01", "2026-04-05 09:00:00", 1, "qr-a")]}])
    write_costs(root, "2026-04-01", [("2026-04-01", "cmp-cac", "douyin_kol", "600.00")])
    write_costs(root, "2026-04-02", [("2026-04-02", "cmp-cac", "douyin_kol", "300.00")])
    write_costs(root, "2026-05-01", [("2026-05-01", "cmp-cac", "douyin_kol", "100.00")])


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("value_marts")
    landing = root / "landing"
    _write_landing(landing)
    select = " ".join(f"+{m}" for m in MARTS.split())
    return build_with_dbt_only(landing, root / "work", select=select)


def member_of(db: Path, event_id: str) -> str:
    return query(db, "select member_id from marts.fct_touchpoint_events where event_id = ?", [event_id])[0][0]


def funnel(db: Path, table: str, event_id: str) -> dict:
    cur = query(db, f"""select funnel_stage, interest_at, lead_at, deal_at from marts.{table}
                        where member_id = ?""", [member_of(db, event_id)])
    assert len(cur) == 1
    stage, interest, lead, deal = cur[0]
    return {"stage": stage, "interest_at": interest, "lead_at": lead, "deal_at": deal}


def utc(local: str, ms_offset: int = 0) -> datetime:
    return datetime.fromisoformat(local) - timedelta(hours=8) + timedelta(milliseconds=ms_offset)


# ---------------------------------------------------------------------------------------- funnel


def test_window_edge_exactly_30_days_counts(db):
    assert funnel(db, "fct_member_funnel", "edge-1") == {
        "stage": "interest", "interest_at": utc("2026-05-01 10:00:00"), "lead_at": None, "deal_at": None}


def test_window_edge_plus_1ms_does_not_count(db):
    assert funnel(db, "fct_member_funnel", "edg2-1")["stage"] == "exposure"
    drop = query(db, """select stage_reached, next_stage, reached_at, window_ends_at, is_window_closed, channel
                        from marts.funnel_dropoffs where member_id = ?""", [member_of(db, "edg2-1")])
    assert drop == [("exposure", "interest", utc("2026-04-01 10:00:00"), utc("2026-05-01 10:00:00"), True,
                     "video_channel")]


def test_interest_before_exposure_is_not_a_step(db):
    assert funnel(db, "fct_member_funnel", "ibe-1")["stage"] == "exposure"


def test_two_exposures_window_starts_at_first(db):
    assert funnel(db, "fct_member_funnel", "twoexp-1")["stage"] == "exposure"


def test_lead_without_interest_is_not_a_lead(db):
    assert funnel(db, "fct_member_funnel", "lni-1") == {
        "stage": "exposure", "interest_at": None, "lead_at": None, "deal_at": None}


def test_deal_before_lead_is_not_a_deal(db):
    f = funnel(db, "fct_member_funnel", "dbl-1")
    assert f == {"stage": "lead", "interest_at": utc("2026-04-05 11:00:00"), "lead_at": utc("2026-04-07 10:00:00"),
                 "deal_at": None}


def test_merged_member_completes_the_funnel(db):
    m = member_of(db, "mrg-1")
    assert {member_of(db, e) for e in ("mrg-2", "mrg-3", "mrg-4")} == {m}
    assert funnel(db, "fct_member_funnel", "mrg-1") == {
        "stage": "deal", "interest_at": utc("2026-04-08 12:00:00"), "lead_at": utc("2026-04-09 10:00:00"),
        "deal_at": utc("2026-04-10 10:00:00")}


def test_strict_funnel(db):
    # merged member: a second interest between interest and lead is allowed -> still a deal
    assert funnel(db, "fct_member_funnel_strict", "mrg-1")["stage"] == "deal"
    # a paid order between interest and lead breaks the lead step
    dbl = query(db, "select funnel_stage, ordered_funnel_stage, broken_at_step, interest_at, lead_at "
                    "from marts.fct_member_funnel_strict where member_id = ?", [member_of(db, "dbl-1")])
    assert dbl == [("interest", "lead", "lead", utc("2026-04-05 11:00:00"), None)]
    # a lead between exposure and the first interest breaks the interest step (and all later)
    sib = query(db, "select funnel_stage, ordered_funnel_stage, broken_at_step, interest_at, lead_at "
                    "from marts.fct_member_funnel_strict where member_id = ?", [member_of(db, "sib-1")])
    assert sib == [("exposure", "lead", "interest", None, None)]
    # unbroken funnels are identical to the ordered funnel
    assert funnel(db, "fct_member_funnel_strict", "edge-1") == funnel(db, "fct_member_funnel", "edge-1")
    n_strict, n_ordered = query(db, """select (select count(*) from marts.fct_member_funnel_strict),
                                              (select count(*) from marts.fct_member_funnel)""")[0]
    assert n_strict == n_ordered


def test_time_to_convert_and_weekly_conversion(db):
    # cohort week of 2026-03-30, douyin_kol: k1 (1 h), k3 (2 h, WeCom add), k2 (3 h) to interest
    row = query(db, """select converted_members, p50_seconds, p90_seconds, p50_hours, p90_hours,
                              members_under_1h, members_1h_to_1d, members_14d_plus
                       from marts.funnel_time_to_convert
                       where cohort_week = date '2026-03-30' and channel = 'douyin_kol' and step = 'exposure_to_interest'""")
    assert row == [(3, 7200.0, pytest.approx(10080.0), 2.0, pytest.approx(2.8), 0, 3, 0)]
    lead = query(db, """select converted_members, p50_hours from marts.funnel_time_to_convert
                        where cohort_week = date '2026-03-30' and channel = 'douyin_kol' and step = 'interest_to_lead'""")
    assert lead == [(1, 23.0)]
    # the 30-day-edge member: interest exactly 30 d after exposure -> the 14d+ bucket
    edge = query(db, """select converted_members, p50_hours, members_14d_plus from marts.funnel_time_to_convert
                        where cohort_week = date '2026-03-30' and channel = 'video_channel' and step = 'exposure_to_interest'""")
    assert edge == [(1, 720.0, 1)]
    weekly = query(db, """select exposure_members, interest_members, lead_members, deal_members, overall_conversion_rate
                          from marts.funnel_conversion_weekly
                          where cohort_week = date '2026-03-30' and channel = 'douyin_kol'""")
    assert weekly == [(3, 3, 1, 1, pytest.approx(1 / 3))]


def test_dropoffs_carry_staff_owner_and_no_pii(db):
    rows = query(db, """select stage_reached, next_stage, reached_at, staff_owner, campaign_id
                        from marts.funnel_dropoffs where member_id = ?""", [member_of(db, "k3-1")])
    assert rows == [("interest", "lead", utc("2026-04-03 12:00:00"), "guide_01", "cmp-cac")]
    cols = {c for (c,) in query(db, """select column_name from information_schema.columns
                                       where table_schema = 'marts' and table_name = 'funnel_dropoffs'""")}
    assert not cols & {"phone", "name", "remark", "buyer_phone", "external_userid", "unionid"}
    # members who reached a deal are not drop-offs
    assert query(db, "select count(*) from marts.funnel_dropoffs where member_id = ?", [member_of(db, "mrg-1")]) == [(0,)]


def test_the_first_wecom_add_is_the_earliest_then_the_smaller_staff_userid(db):
    """One definition of "the member's first WeCom add" (int_member_wecom_follows) behind
    dim_member.first_contact_state, fct_member_funnel.contact_state and funnel_dropoffs.staff_owner."""
    rows = query(db, """select map.identifier, follows.first_staff_userid, follows.first_add_way,
                               follows.first_contact_state, follows.staff_owners
                        from intermediate.int_member_wecom_follows as follows
                        inner join intermediate.int_identity_map as map on follows.member_id = map.member_id
                        where map.identifier in ('external_userid:wm-k4', 'external_userid:wm-k5')
                        order by 1""")
    assert rows == [("external_userid:wm-k4", "guide_02", 2, None, ["guide_01", "guide_02"]),
                    ("external_userid:wm-k5", "guide_01", 1, "qr-a", ["guide_01", "guide_02"])]


# ---------------------------------------------------------------------------------- attribution


def attribution(db: Path, order_no: str) -> dict[str, list[tuple]]:
    rows = query(db, """select model, event_id, channel, credit, credited_gmv, credited_gmv_exact
                        from marts.order_attribution where order_no = ? order by model, touch_sequence""", [order_no])
    out: dict[str, list[tuple]] = defaultdict(list)
    for model, *rest in rows:
        out[model].append(tuple(rest))
    return out


def test_multi_touch_attribution_each_model(db):
    a = attribution(db, "ATT-1")
    gmv = Decimal("1000.00")
    # eligible: att-2 (Δt 30 d, the look-back edge), att-3 (7 d), att-4a / att-4b (1 d, tie -> event_id);
    # not: att-1 (30 d + 1 ms), att-5 (at paid_at), att-6 (after), order_paid itself
    assert a["first_touch"] == [("att-2", "xiaohongshu_kol", 1.0, gmv, 1000.0)]
    assert a["last_touch"] == [("att-4b", "oa_service", 1.0, gmv, 1000.0)]
    assert [(e, c) for e, _, c, g, _ in a["linear"]] == [("att-2", 0.25), ("att-3", 0.25), ("att-4a", 0.25), ("att-4b", 0.25)]
    assert [g for *_, g, _ in a["linear"]] == [Decimal("250.00")] * 4
    weights = [2 ** (-30 / HALF_LIFE_DAYS), 2 ** (-7 / HALF_LIFE_DAYS), 2 ** (-1 / HALF_LIFE_DAYS), 2 ** (-1 / HALF_LIFE_DAYS)]
    credits = [w / sum(weights) for w in weights]  # 0.0264…, 0.2537…, 0.3600…, 0.3600…
    decay = a["time_decay"]
    assert [e for e, *_ in decay] == ["att-2", "att-3", "att-4a", "att-4b"]
    assert [c for _, _, c, _, _ in decay] == pytest.approx(credits, abs=1e-12)
    assert [x for *_, x in decay] == pytest.approx([1000 * c for c in credits], abs=1e-9)
    # cents: floor(2637.96…)=2637 (+1), floor(25374.2…), floor(35994.x) … largest remainders get the missing cents
    cents = [1000 * 100 * c for c in credits]
    floors = [int(x) for x in cents]
    missing = 100000 - sum(floors)
    order = sorted(range(4), key=lambda i: (-(cents[i] - floors[i]), i))
    expected = [Decimal(floors[i] + (1 if i in order[:missing] else 0)) / 100 for i in range(4)]
    assert [g for *_, g, _ in decay] == expected
    for model, rows in a.items():
        assert sum(c for _, _, c, _, _ in rows) == pytest.approx(1.0, abs=1e-12), model
        assert sum(g for *_, g, _ in rows) == gmv, model


def test_refunded_order_attributes_net_gmv(db):
    assert query(db, "select status, net_gmv from marts.fct_orders where order_no = 'REF-1'") == [
        ("TRADE_SUCCESS", Decimal("300.00"))]
    a = attribution(db, "REF-1")
    assert set(a) == {"first_touch", "last_touch", "linear", "time_decay"}
    for rows in a.values():
        assert rows == [("ref-1", "oa_service", 1.0, Decimal("300.00"), 300.0)]


def test_direct_unresolved_and_unpaid_orders(db):
    # the member's only touch is 52 days before the order: direct
    for rows in attribution(db, "DIR-1").values():
        assert rows == [(None, "direct", 1.0, Decimal("66.60"), pytest.approx(66.6))]
    assert len(attribution(db, "DIR-1")) == 4
    # unresolved buyer: kept as direct with a null member_id
    anon = query(db, "select model, member_id, channel, credited_gmv from marts.order_attribution "
                     "where order_no = 'ANON-1' order by model")
    assert anon == [(m, None, "direct", Decimal("20.00")) for m in ("first_touch", "last_touch", "linear", "time_decay")]
    assert query(db, "select count(*) from marts.order_attribution where order_no = 'UNPAID-1'") == [(0,)]


def test_every_model_reconciles_to_paid_net_gmv(db):
    total = query(db, "select sum(net_gmv) from marts.fct_orders where is_paid")[0][0]
    per_model = query(db, "select model, sum(credited_gmv), sum(credit) from marts.order_attribution group by model")
    paid_orders = query(db, "select count(*) from marts.fct_orders where is_paid")[0][0]
    assert len(per_model) == 4
    for model, gmv, credits in per_model:
        assert gmv == total, model
        assert credits == pytest.approx(paid_orders), model


# ----------------------------------------------------------------------------------------- value


def test_cohort_retention_tiny_cohort(db):
    rows = query(db, """select months_since, cohort_members, retained_members, repeat_buyers,
                               cumulative_net_gmv, cumulative_net_gmv_per_member
                        from marts.cohort_retention where cohort_month = date '2026-02-01' order by months_since""")
    # c1: Feb order 100, Mar order 50; c2: Feb exposure, Apr interest; c3: Feb 28 23:30 exposure,
    # Mar 1 00:30 (Shanghai) event. Latest business date 2026-05-05 -> months 0..3.
    assert rows == [
        (0, 3, 3, 0, Decimal("100.00"), Decimal("33.33")),
        (1, 3, 2, 1, Decimal("150.00"), Decimal("50.00")),
        (2, 3, 1, 1, Decimal("150.00"), Decimal("50.00")),
        (3, 3, 0, 1, Decimal("150.00"), Decimal("50.00")),
    ]
    # every cohort runs to the latest month
    assert query(db, "select max(activity_month) from marts.cohort_retention") == [(datetime(2026, 5, 1).date(),)]


def test_channel_performance_cac_for_one_campaign(db):
    rows = query(db, """select acquisition_month, new_members, lead_members, deal_members, buyers, net_gmv,
                               cost, cac, roi
                        from marts.channel_performance where campaign_id = 'cmp-cac' order by acquisition_month""")
    # April: k1, k2, k3 first touched by cmp-cac (k4 was first touched by cmp-other); spend 600 + 300
    assert rows == [
        (datetime(2026, 4, 1).date(), 3, 1, 1, 1, Decimal("1200.00"), Decimal("900.00"), Decimal("300.00"),
         pytest.approx((1200 - 900) / 900)),
        (datetime(2026, 5, 1).date(), 0, 0, 0, 0, Decimal("0.00"), Decimal("100.00"), None, -1.0),
    ]
    other = query(db, """select channel, new_members, cost, cac from marts.channel_performance
                         where campaign_id = 'cmp-other'""")
    assert other == [("ads", 1, None, None)]

