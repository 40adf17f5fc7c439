"""Identity stitching (contracts §4) and the member dimension and layers (contracts §5), end to end
through the real `siyu build` on a small landing folder. Every expected value is computed by
hand in the comments below.

All times are Asia/Shanghai wall-clock (UTC+8). The latest business date D is 2026-06-30
(an exposure event on D makes it explicit; nothing in the landing folder is later).
D−1 = 06-29, D−29 = 06-01, D−30 = 05-31, D−89 = 04-02, D−90 = 04-01.

Cases (distinct ids per case; cases 1, 3, 4 and 6 happen in March 2026, more than 90 days
before D, so their members are `ordinary` on D and on D−1):

1. chain   — follower {openid wxsub01:oSUB_c1, unionid oU_c1} (03-04 09:00) · tracking event
             {distinct_id c1_d1, openid wxmini01:oMP_c1} (03-05) · order {phone '+86 139 0001 1111',
             openid wxmini01:oMP_c1} (03-08) · contact {wmC1, oU_c1, remark_mobiles 13900011111}
             (03-07): one member of 6 identifiers.
2. merge   — day 1 (06-26): islands OLD {c2_z_old, oU_c2_old} (09:00), NEW {c2_a_new, oU_c2_new}
             (10:00) and R {c2_r, oU_c2_r} (11:00), each by an article_read (interest: all three
             are `active` on D and D−1); day 2: NEW again; day 3 (06-28): an event
             {distinct_id c2_a_new, unionid oU_c2_old} links OLD and NEW. Built twice in one work
             dir: days 1–2, then again after adding the day-3 partition.
3. shared  — phone S = 13812345678 on orders of 4 unionids (> 3): non-identifying; phone
             T = 13598765432 on orders of exactly 3 unionids: merges them.
4. staff   — guide_wang (type 1) in group c4_g, invitor of a member, sends group and 1:1 messages.
5. layers  — group c5_g: invites, 10 vs 9 messages (one recalled), interest on D−29 vs D−30.
6. rich    — member M6: closed order first (03-09), tie of first touches, deal funnel, a refund
             re-sent later, 2 groups, 2 invitees.

Members after the full build (26):
  case 1: 1 · case 2: 2 (OLD absorbs NEW; R) · case 3: 5 (a, b, c, d; x+y+z) · case 4: 2
  case 5: 13 (core, nc, m10, m9, i1, i2, i3, n1, n2, n3, act, ord, dmark) · case 6: 3 (M6, f1, f2)
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from siyu.pii import DEMO_SALT, hmac_sha256
from tests.harness import build_warehouse, query, working_db
from tests.landing import contact, event, ext_entry, follower, group, msg, recall, staff_entry, write_jsonl, write_orders

D = date(2026, 6, 30)
D_MINUS_1 = date(2026, 6, 29)
LATE, EARLIER = "2026-06-30", "2026-06-29"  # partitions of the late re-exports
CASE2_DAY1, CASE2_DAY2, CASE2_DAY3 = "2026-06-26", "2026-06-27", "2026-06-28"
TOTAL_MEMBERS = 26


def member_id(identifier: str) -> str:
    """contracts §4: 'm_' + first 16 hex digits of SHA-256 of the founding 'kind:value'."""
    return "m_" + hashlib.sha256(identifier.encode()).hexdigest()[:16]


def phone_id(digits: str) -> str:
    """A phone identifier: its value is the HMAC-SHA256 hex of the normalised number."""
    return "phone:" + hmac_sha256(digits, DEMO_SALT)


PAID = {"status": "TRADE_SUCCESS", "platform": "mini_program", "discount_amount": "0.00", "refund_amount": "0.00",
        "items": json.dumps([{"sku": "SF-1", "title": "单人沙发", "qty": 1}], ensure_ascii=False)}


def paid_order(order_no: str, created: str, paid: str, amount: str, **buyer: str) -> dict:
    return PAID | {"order_no": order_no, "created_at": created, "paid_at": paid, "updated_at": paid,
                   "total_amount": amount, "paid_amount": amount} | buyer


# ---------------------------------------------------------------------------- the landing folder
def write_landing(root: Path) -> None:
    """Everything except the day-3 partition of case 2 (see add_case2_link).

    Only case 2 is spread over day partitions (06-26, 06-27; 06-28 added later). Every other
    record is a late re-export in the partitions of D−1 / D (timestamps may be older than their
    partition), which keeps the build's partition range — and its runtime — small.
    """
    tracking: list[dict] = []
    contacts: list[dict] = []
    groups: list[dict] = []
    messages: list[dict] = []
    orders: list[dict] = []

    # ---- case 1: chain across four sources
    followers = [follower("oSUB_c1", "wxsub01", "oU_c1", "2026-03-04 09:00")]
    tracking.append(event("c1_e1", "content_impression", "2026-03-05 10:00", "mini_program", distinct_id="c1_d1",
                          identities={"openid": "oMP_c1", "appid": "wxmini01"}))
    contacts.append(contact("wmC1", "oU_c1", "guide_li", "2026-03-07 15:00", mobiles=["13900011111"]))
    orders.append(paid_order("c1_o1", "2026-03-08 20:00:00", "2026-03-08 20:01:00", "99.00",
                             buyer_phone="+86 139 0001 1111", buyer_openid="oMP_c1", buyer_appid="wxmini01"))

    # ---- case 2: two islands on day 1 (the link arrives on day 3) and a bystander
    write_jsonl(root, "tracking", CASE2_DAY1, [
        event("c2_o1", "article_read", f"{CASE2_DAY1} 09:00", "oa_subscription", distinct_id="c2_z_old",
              identities={"unionid": "oU_c2_old"}),
        event("c2_n1", "article_read", f"{CASE2_DAY1} 10:00", "oa_subscription", distinct_id="c2_a_new",
              identities={"unionid": "oU_c2_new"}),
        event("c2_r1", "article_read", f"{CASE2_DAY1} 11:00", "oa_subscription", distinct_id="c2_r",
              identities={"unionid": "oU_c2_r"})])
    write_jsonl(root, "tracking", CASE2_DAY2, [
        event("c2_n2", "product_view", f"{CASE2_DAY2} 10:00", "mini_program", distinct_id="c2_a_new")])

    # ---- case 3: shared store phone (4 unionids) vs. exactly 3 unionids
    orders += [
        paid_order("c3_o1", "2026-03-10 10:00:00", "2026-03-10 10:01:00", "10.00", buyer_phone="13812345678", buyer_unionid="oU_c3a"),
        paid_order("c3_o2", "2026-03-10 11:00:00", "2026-03-10 11:01:00", "10.00", buyer_phone="138 1234 5678", buyer_unionid="oU_c3b"),
        paid_order("c3_o3", "2026-03-10 12:00:00", "2026-03-10 12:01:00", "10.00", buyer_phone="+8613812345678", buyer_unionid="oU_c3c"),
        paid_order("c3_o4", "2026-03-10 13:00:00", "2026-03-10 13:01:00", "10.00", buyer_phone="0086 138-1234-5678", buyer_unionid="oU_c3d"),
        paid_order("c3_o5", "2026-03-10 14:00:00", "2026-03-10 14:01:00", "10.00", buyer_phone="13812345678"),
        paid_order("c3_o6", "2026-03-10 15:00:00", "2026-03-10 15:01:00", "10.00", buyer_phone="13598765432", buyer_unionid="oU_c3x"),
        paid_order("c3_o7", "2026-03-10 16:00:00", "2026-03-10 16:01:00", "10.00", buyer_phone="135 9876 5432", buyer_unionid="oU_c3y"),
        paid_order("c3_o8", "2026-03-10 17:00:00", "2026-03-10 17:01:00", "10.00", buyer_phone="+86 13598765432", buyer_unionid="oU_c3z"),
        paid_order("c3_o9", "2026-03-10 18:00:00", "2026-03-10 18:01:00", "10.00", buyer_phone="13598765432"),
    ]

    # ---- case 4: staff in a group, inviting, chatting
    groups.append(group("c4_g", "guide_wang", "2026-03-12 09:00", [
        staff_entry("guide_wang", "2026-03-12 09:00"),
        ext_entry("wmC4a", "oU_c4a", "2026-03-12 10:00"),
        ext_entry("wmC4b", "oU_c4b", "2026-03-12 11:00", invitor="guide_wang"),
    ]))
    contacts.append(contact("wmC4a", "oU_c4a", "guide_wang", "2026-03-12 08:00"))
    messages += [
        msg("c4_m1", "guide_wang", "c4_g", "2026-03-12 10:05", to=["wmC4a", "wmC4b"]),
        msg("c4_m2", "wmC4a", "c4_g", "2026-03-12 10:10", to=["guide_wang", "wmC4b"]),
        msg("c4_m3", "guide_wang", "", "2026-03-12 10:20", to=["wmC4a"]),  # 1:1, links nothing
        msg("c4_m4", "guide_wang", "c4_g", "2026-03-12 11:30", to=["wmC4a", "wmC4b"]),
    ]

    # ---- case 5: layers as of D
    groups.append(group("c5_g", "guide_zhao", "2026-03-20 08:00", [
        staff_entry("guide_zhao", "2026-03-20 08:00"),
        ext_entry("wmL_core", "oU_l_core", "2026-03-20 09:00"),
        ext_entry("wmL_nc", "oU_l_nc", "2026-03-20 09:10"),
        ext_entry("wmL_m10", "oU_l_m10", "2026-03-20 09:20"),
        ext_entry("wmL_m9", "oU_l_m9", "2026-03-20 09:30"),
        ext_entry("wmL_i1", "oU_l_i1", "2026-04-02 00:01", invitor="wmL_core"),  # D−89 (in UTC still 04-01)
        ext_entry("wmL_i2", "oU_l_i2", "2026-05-15 12:00", invitor="wmL_core"),
        ext_entry("wmL_i3", "oU_l_i3", "2026-06-30 10:00", invitor="wmL_core"),  # D
        ext_entry("wmL_n1", "oU_l_n1", "2026-04-01 23:59", invitor="wmL_nc"),    # D−90
        ext_entry("wmL_n2", "oU_l_n2", "2026-05-20 12:00", invitor="wmL_nc"),
        ext_entry("wmL_n3", "oU_l_n3", "2026-06-10 12:00", invitor="wmL_nc"),
    ]))
    for who in ("m10", "m9"):
        sender = f"wmL_{who}"
        messages.append(msg(f"c5_{who}_a", sender, "c5_g", "2026-05-31 23:50"))  # D−30
        messages.append(msg(f"c5_{who}_b", sender, "c5_g", "2026-06-01 00:10"))  # D−29
        day = "2026-06-15" if who == "m10" else "2026-06-16"
        messages += [msg(f"c5_{who}_c{k}", sender, "c5_g", f"{day} 10:{k:02d}") for k in range(1, 9)]
        messages.append(msg(f"c5_{who}_x", sender, "c5_g", f"{day} 11:00"))
        messages.append(recall(f"c5_{who}_xr", sender, "c5_g", f"{day} 11:01", of=f"c5_{who}_x"))
    messages.append(msg("c5_m10_d", "wmL_m10", "c5_g", "2026-06-30 09:00"))  # D
    tracking += [
        event("c5_ord1", "article_read", "2026-05-31 23:30", "oa_subscription", distinct_id="c5_ord"),  # D−30
        event("c5_act1", "article_read", "2026-06-01 00:30", "oa_subscription", distinct_id="c5_act"),  # D−29
        event("c5_dmark", "content_impression", "2026-06-30 20:00", "xiaohongshu_kol", distinct_id="c5_dmark"),  # D
    ]

    # ---- case 6: one rich member M6
    orders.append(PAID | {"order_no": "c6_o0", "status": "TRADE_CLOSED", "created_at": "2026-03-09 20:00:00",
                          "paid_at": "", "updated_at": "2026-03-09 20:30:00", "buyer_phone": "13700006666",
                          "total_amount": "800.00", "paid_amount": "0.00"})
    tracking += [
        # same millisecond: first_channel is the one of the smaller event_id as a string, 'c6_e10'
        event("c6_e9", "content_impression", "2026-03-10 10:00", "xiaohongshu_kol", distinct_id="c6_d",
              identities={"unionid": "oU_c6"}, campaign_id="cmp-c6"),
        event("c6_e10", "content_impression", "2026-03-10 10:00", "douyin_kol", distinct_id="c6_d",
              identities={"unionid": "oU_c6"}),
        event("c6_e11", "product_view", "2026-03-10 10:30", "mini_program", distinct_id="c6_d",
              identities={"openid": "oMP_c6", "appid": "wxmini01"}),
        event("c6_e12", "form_submit", "2026-03-11 09:30", "wecom_1v1", distinct_id="c6_d"),
    ]
    contacts.append(contact("wmC6", "oU_c6", "guide_li", "2026-03-11 09:00", mobiles=["137-0000-6666"], tags=["客厅沙发"]))
    groups.append(group("c6_g1", "guide_li", "2026-03-11 08:00", [
        staff_entry("guide_li", "2026-03-11 08:00"),
        ext_entry("wmC6", "oU_c6", "2026-03-11 10:00"),
        ext_entry("wmC6_f1", "oU_c6f1", "2026-03-14 10:00", invitor="wmC6"),
        ext_entry("wmC6_f2", "oU_c6f2", "2026-03-15 10:00", invitor="wmC6"),
    ]))
    groups.append(group("c6_g2", "guide_li", "2026-03-13 08:00", [
        staff_entry("guide_li", "2026-03-13 08:00"),
        ext_entry("wmC6", "oU_c6", "2026-03-13 10:00"),
        ext_entry("wmC6_f1", "oU_c6f1", "2026-03-16 10:00", invitor="wmC6"),  # f1 again: still 2 invitees
    ]))
    messages.append(msg("c6_m1", "wmC6", "c6_g1", "2026-03-11 10:05"))
    orders.append(paid_order("c6_o1", "2026-03-12 11:55:00", "2026-03-12 12:00:00", "1000.00",
                             buyer_phone="137 0000 6666", buyer_openid="oMP_c6", buyer_appid="wxmini01"))
    c6_o2 = paid_order("c6_o2", "2026-03-20 10:00:00", "2026-03-20 10:05:00", "500.00", buyer_unionid="oU_c6") | {
        "status": "WAIT_SELLER_SEND_GOODS"}
    write_orders(root, EARLIER, [c6_o2])
    # the same order re-sent later with a partial refund and a newer updated_at: net 300.00
    orders.append(c6_o2 | {"status": "TRADE_SUCCESS", "updated_at": "2026-03-25 09:00:00", "refund_amount": "200.00"})

    write_jsonl(root, "tracking", LATE, tracking)
    write_jsonl(root, "oa_followers", LATE, followers)
    write_jsonl(root, "wecom_contacts", LATE, contacts)
    write_jsonl(root, "wecom_groups", LATE, groups)  # one full snapshot, on D
    write_jsonl(root, "wecom_messages", LATE, messages)
    write_orders(root, LATE, orders)


def add_case2_link(root: Path) -> None:
    write_jsonl(root, "tracking", CASE2_DAY3, [
        event("c2_link", "product_view", f"{CASE2_DAY3} 10:00", "mini_program", distinct_id="c2_a_new",
              identities={"unionid": "oU_c2_old"})])


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> tuple[Path, Path]:
    """(warehouse before the day-3 link, warehouse after it), built in the same work dir."""
    landing = tmp_path_factory.mktemp("landing")
    work = tmp_path_factory.mktemp("build")
    write_landing(landing)
    with pytest.MonkeyPatch.context() as env:  # phone hashes below use the demo salt
        env.delenv("SIYU_PII_SALT", raising=False)
        env.setenv("SIYU_DEMO", "1")
        first = build_warehouse(landing, work)
        before = work.parent / f"{work.name}-before.duckdb"
        shutil.copy(first, before)
        shutil.copy(working_db(first), working_db(before))  # the internal layers live there
        add_case2_link(landing)
        after = build_warehouse(landing, work)
    return before, after


@pytest.fixture(scope="module")
def warehouse(builds) -> Path:
    return builds[1]


def ids_of(db: Path, identifiers: list[str]) -> dict[str, str]:
    return dict(query(db, "select identifier, member_id from intermediate.int_identity_map where identifier in "
                          "(select unnest(?))", [identifiers]))


def order_members(db: Path, prefix: str) -> dict[str, str | None]:
    return dict(query(db, "select order_no, member_id from marts.fct_orders where order_no like ? || '%'", [prefix]))


# ---------------------------------------------------------------------------- case 1
def test_chain_across_sources_is_one_member(warehouse):
    chain = ["openid:wxsub01:oSUB_c1", "unionid:oU_c1", "distinct_id:c1_d1", "openid:wxmini01:oMP_c1",
             "external_userid:wmC1", phone_id("13900011111")]
    # earliest-seen: the follower at 03-04 09:00 carries openid:wxsub01:oSUB_c1 and unionid:oU_c1
    # (a tie, the smaller string 'openid:…' wins); 'distinct_id:c1_d1' is smaller but seen later.
    expected = member_id("openid:wxsub01:oSUB_c1")
    assert ids_of(warehouse, chain) == {i: expected for i in chain}
    rows = query(warehouse, "select identifier, founding_identifier from intermediate.int_identity_map where member_id = ?", [expected])
    assert sorted(i for i, _ in rows) == sorted(chain)
    assert {f for _, f in rows} == {"openid:wxsub01:oSUB_c1"}
    # the order spelled '+86 139 0001 1111' resolves to the member through the contact's remark_mobiles
    assert order_members(warehouse, "c1_") == {"c1_o1": expected}
    (kinds,) = query(warehouse, "select identifier_kinds from marts.dim_member where member_id = ?", [expected])[0]
    assert kinds == ["distinct_id", "external_userid", "openid", "phone", "unionid"]


# ---------------------------------------------------------------------------- case 2
def test_merge_keeps_the_older_id_and_renames_nothing_else(builds):
    before, after = builds
    old, new, bystander = member_id("distinct_id:c2_z_old"), member_id("distinct_id:c2_a_new"), member_id("distinct_id:c2_r")
    island_old = ["distinct_id:c2_z_old", "unionid:oU_c2_old"]  # 06-26 09:00 (tie: 'distinct_id:…' < 'unionid:…')
    island_new = ["distinct_id:c2_a_new", "unionid:oU_c2_new"]  # 06-26 10:00
    assert ids_of(before, island_old + island_new + ["distinct_id:c2_r"]) == (
        {i: old for i in island_old} | {i: new for i in island_new} | {"distinct_id:c2_r": bystander})
    # after the day-3 link the older id survives, although 'distinct_id:c2_a_new' is the smaller string
    assert ids_of(after, island_old + island_new + ["distinct_id:c2_r"]) == (
        {i: old for i in island_old + island_new} | {"distinct_id:c2_r": bystander})

    # adding data renamed nobody else: every identifier of the first build keeps its member_id
    map_before = dict(query(before, "select identifier, member_id from intermediate.int_identity_map"))
    map_after = dict(query(after, "select identifier, member_id from intermediate.int_identity_map"))
    assert set(map_after) == set(map_before)  # the link carries no new identifier
    renamed = {i: (map_before[i], map_after[i]) for i in map_before if map_before[i] != map_after[i]}
    assert renamed == {i: (new, old) for i in island_new}
    members_before = {m for (m,) in query(before, "select member_id from marts.dim_member")}
    members_after = {m for (m,) in query(after, "select member_id from marts.dim_member")}
    assert len(members_before) == TOTAL_MEMBERS + 1
    assert members_after == members_before - {new}


def test_events_with_the_same_identifiers_are_one_identity_record(warehouse):
    # case 6: e9 and e10 carry {c6_d, oU_c6} (10:00), e11 {c6_d, wxmini01:oMP_c6} (10:30), e12 {c6_d} (03-11 09:30)
    records = query(warehouse, """
        select list_sort(list(identifier)), any_value(source_records), any_value(seen_at), any_value(last_seen_at)
        from intermediate.int_identity_records
        where record_id in (select record_id from intermediate.int_identity_records where identifier = 'distinct_id:c6_d')
        group by record_id order by 3, 1""")
    assert records == [
        (["distinct_id:c6_d", "unionid:oU_c6"], 2, datetime(2026, 3, 10, 2, 0), datetime(2026, 3, 10, 2, 0)),
        (["distinct_id:c6_d", "openid:wxmini01:oMP_c6"], 1, datetime(2026, 3, 10, 2, 30), datetime(2026, 3, 10, 2, 30)),
        (["distinct_id:c6_d"], 1, datetime(2026, 3, 11, 1, 30), datetime(2026, 3, 11, 1, 30))]
    # each of the four events still belongs to M6
    m6 = ids_of(warehouse, ["distinct_id:c6_d"])["distinct_id:c6_d"]
    assert query(warehouse, "select event_id, member_id from marts.fct_touchpoint_events "
                            "where event_id in ('c6_e9', 'c6_e10', 'c6_e11', 'c6_e12') order by 1") == [
        ("c6_e10", m6), ("c6_e11", m6), ("c6_e12", m6), ("c6_e9", m6)]


# ---------------------------------------------------------------------------- case 3
def test_shared_phone_links_nothing_but_three_unionids_merge(warehouse):
    shared, boundary = phone_id("13812345678"), phone_id("13598765432")
    assert query(warehouse, "select identifier, identifier_kind, unionids_touched, records_seen, first_seen_at, last_seen_at "
                            "from intermediate.int_identity_shared_identifiers") == [
        # on the 4 orders that carry a unionid (c3_o5 carries none), created 10:00 … 13:00 (UTC+8)
        (shared, "phone", 4, 4, datetime(2026, 3, 10, 2, 0), datetime(2026, 3, 10, 5, 0))]
    # 4 unionids stay 4 members (each founded by its unionid); the shared phone maps to nobody
    members = ids_of(warehouse, [shared, "unionid:oU_c3a", "unionid:oU_c3b", "unionid:oU_c3c", "unionid:oU_c3d"])
    assert members == {f"unionid:oU_c3{c}": member_id(f"unionid:oU_c3{c}") for c in "abcd"}
    # exactly 3 unionids on a phone is not > identity_max_unionids: one member, founded by the phone
    # (order c3_o6 at 15:00 carries phone and unionid:oU_c3x: tie, 'phone:…' < 'unionid:…')
    merged = member_id(boundary)
    assert ids_of(warehouse, [boundary, "unionid:oU_c3x", "unionid:oU_c3y", "unionid:oU_c3z"]) == {
        boundary: merged, "unionid:oU_c3x": merged, "unionid:oU_c3y": merged, "unionid:oU_c3z": merged}
    assert order_members(warehouse, "c3_") == {
        "c3_o1": member_id("unionid:oU_c3a"), "c3_o2": member_id("unionid:oU_c3b"),
        "c3_o3": member_id("unionid:oU_c3c"), "c3_o4": member_id("unionid:oU_c3d"),
        "c3_o5": None,  # only the shared phone: unresolved
        "c3_o6": merged, "c3_o7": merged, "c3_o8": merged, "c3_o9": merged}
    assert query(warehouse, "select count(*) from marts.dim_member where member_id in (select unnest(?))",
                 [[member_id(f"unionid:oU_c3{c}") for c in "abcd"] + [merged]]) == [(5,)]
    # the unresolved order makes no touchpoint event
    assert query(warehouse, "select count(*) from marts.fct_touchpoint_events where event_id = 'order_paid:c3_o5'") == [(0,)]


# ---------------------------------------------------------------------------- case 4
def test_staff_never_becomes_a_member(warehouse):
    assert query(warehouse, "select count(*) from intermediate.int_identity_map where identifier like '%guide_%'") == [(0,)]
    assert query(warehouse, "select count(*) from intermediate.int_identity_map where identifier = 'external_userid:guide_wang'") == [(0,)]
    assert query(warehouse, "select count(*) from marts.dim_member") == [(TOTAL_MEMBERS,)]
    # wmC4a: contact added 03-12 08:00 (external_userid + unionid: tie, 'external_userid:…' smaller);
    # wmC4b: group entry at 11:00 (tie, 'external_userid:wmC4b' < 'unionid:oU_c4b')
    a, b = member_id("external_userid:wmC4a"), member_id("external_userid:wmC4b")
    assert ids_of(warehouse, ["external_userid:wmC4a", "external_userid:wmC4b"]) == {
        "external_userid:wmC4a": a, "external_userid:wmC4b": b}
    # staff messages belong to no member; only wmC4a's group message counts; the 1:1 is no group message
    assert query(warehouse, """select msgid, sender_kind, member_id from intermediate.int_group_messages_enriched
                               where group_id = 'c4_g' order by msgid""") == [
        ("c4_m1", "staff", None), ("c4_m2", "member", a), ("c4_m4", "staff", None)]
    # a staff invitor makes no member invite
    assert query(warehouse, "select count(*) from intermediate.int_member_invites where inviter_userid = 'guide_wang'") == [(0,)]
    assert query(warehouse, "select count(*) from marts.fct_touchpoint_events where member_id is null") == [(0,)]


# ---------------------------------------------------------------------------- case 5
def layer_of(db: Path, identifier: str) -> str:
    return query(db, """select d.member_layer from marts.dim_member d join intermediate.int_identity_map m using (member_id)
                        where m.identifier = ?""", [identifier])[0][0]


def test_member_layers_at_the_thresholds(warehouse):
    assert query(warehouse, "select max(business_date) from marts.member_layers_daily") == [(D,)]
    expected_on_d = {
        "wmL_core": "core",         # invites 04-02 (D−89), 05-15, 06-30: 3 in D−89…D
        "wmL_nc": "contributor",    # invites 04-01 (D−90, out), 05-20, 06-10: 2, and ≥ 1 in 90 days
        "wmL_m10": "contributor",   # 06-01, 8 × 06-15, 06-30 = 10 messages in D−29…D (05-31 out, 06-15 recall out)
        "wmL_m9": "active",         # 06-01, 8 × 06-16 = 9 (the 10th was recalled): active by its messages
        "wmL_i3": "active",         # joined on D (group_join is an interest event)
        "wmL_n3": "active",         # joined 06-10
        "wmL_i1": "ordinary", "wmL_i2": "ordinary", "wmL_n1": "ordinary", "wmL_n2": "ordinary",
    }
    got = {u: layer_of(warehouse, f"external_userid:{u}") for u in expected_on_d}
    assert got == expected_on_d
    assert layer_of(warehouse, "distinct_id:c5_act") == "active"    # article_read 06-01 00:30 (D−29)
    assert layer_of(warehouse, "distinct_id:c5_ord") == "ordinary"  # article_read 05-31 23:30 (D−30)
    assert layer_of(warehouse, "distinct_id:c5_dmark") == "ordinary"  # an exposure is no active signal


def test_member_layers_daily_counts(warehouse):
    rows = query(warehouse, """select business_date, member_layer, members from marts.member_layers_daily
                               where business_date in (?, ?) order by 1, 2""", [D_MINUS_1, D])
    # D: core {core}; contributor {nc, m10}; active {m9, i3, n3, act, case 2: OLD, R}; ordinary: the
    #    other 17 (case 1: 1, case 3: 5, case 4: 2, case 5: i1 i2 n1 n2 ord dmark, case 6: 3).
    # D−1 (24 members: i3 and dmark are first seen on D): core {nc: 04-01, 05-20, 06-10 in D−90…D−1};
    #    contributor {core: 2 invites; m10 and m9: 05-31 + 06-01 + 8 = 10 messages in D−30…D−1};
    #    active {act, ord (05-31 is now in the window), n3, OLD, R}; ordinary 24 − 9 = 15.
    assert rows == [
        (D_MINUS_1, "active", 5), (D_MINUS_1, "contributor", 3), (D_MINUS_1, "core", 1), (D_MINUS_1, "ordinary", 15),
        (D, "active", 6), (D, "contributor", 2), (D, "core", 1), (D, "ordinary", 17),
    ]
    assert query(warehouse, "select member_layer, count(*) from marts.dim_member group by 1 order by 1") == [
        ("active", 6), ("contributor", 2), ("core", 1), ("ordinary", 17)]


# ---------------------------------------------------------------------------- case 6
# every phone of the landing folder, normalised and as spelled in the exports
RAW_PHONES = ["13900011111", "+86 139 0001 1111", "13812345678", "138 1234 5678", "+8613812345678",
              "0086 138-1234-5678", "13598765432", "135 9876 5432", "+86 13598765432", "13700006666",
              "137-0000-6666", "137 0000 6666"]


def test_rich_member_dimension(warehouse):
    # founding identifier: the closed order c6_o0 (03-09 20:00) carries only the phone
    m6 = member_id(phone_id("13700006666"))
    assert ids_of(warehouse, ["unionid:oU_c6", "external_userid:wmC6", "distinct_id:c6_d", "openid:wxmini01:oMP_c6",
                              phone_id("13700006666")]) == {
        "unionid:oU_c6": m6, "external_userid:wmC6": m6, "distinct_id:c6_d": m6, "openid:wxmini01:oMP_c6": m6,
        phone_id("13700006666"): m6}
    row = query(warehouse, """select first_seen_at, first_channel, funnel_stage, order_count, net_gmv, is_repeat_buyer,
                                     groups_joined, members_invited, identifier_kinds, member_layer
                              from marts.dim_member where member_id = ?""", [m6])
    assert row == [(
        datetime(2026, 3, 9, 12, 0),  # c6_o0 created 03-09 20:00 Shanghai = 12:00 UTC, before any touchpoint
        "douyin_kol",                 # c6_e9 / c6_e10 tie at 03-10 10:00: 'c6_e10' < 'c6_e9'
        "deal",                       # exposure 03-10 10:00 → product_view 10:30 → form_submit 03-11 → paid 03-12
        2,                            # c6_o1, c6_o2 (c6_o0 was never paid)
        Decimal("1300.00"),           # 1000.00 + (500.00 − 200.00 refunded in the later re-send)
        True,
        2,                            # c6_g1, c6_g2
        2,                            # f1 (twice) and f2
        ["distinct_id", "external_userid", "openid", "phone", "unionid"],
        "ordinary",                   # everything is in March, > 90 days before D
    )]


def test_no_raw_phone_in_dim_member(warehouse):
    rows = query(warehouse, "select * from marts.dim_member")
    assert len(rows) == TOTAL_MEMBERS
    values = [str(v) for row in rows for v in row if v is not None]
    assert [p for p in RAW_PHONES if any(p in v for v in values)] == []
