"""Community marts (社群): group lifecycle, joins and leaves, survival, fission, reach.

One small landing folder holds every case with distinct ids; the answers below are computed
by hand from contracts §3 and §5. Day n is DAY0 + n business days (Asia/Shanghai); DAY0 is a
Monday. The latest business date D is day 45.

Groups (all owners are staff userids):
* wrG_life  — created day 0; member messages 2/day on days 0…13, none after:
              launch 0–6, active 7–16, declining 17–19, silent 20–42, dead 43–45.
* wrG_staff — created day 0; one member message on day 1; staff and a bot chat every day;
              a member message on day 40 is recalled: active day 7, silent 8–30, dead from 31.
* wrG_chain — created day 0; A (QR, day 1) invites B (day 3) who invites C (day 4); L joins
              day 2, leaves (absent from snapshot day 10), rejoins day 15 by link; G joins day 3
              and leaves while there are no snapshots (days 25, 26): no leave is inferred.
* wrG_gone  — created day 5, last snapshot day 11, absent on day 12: dissolved day 12.
* wrG_s1/s2/s3 — created days −21/−20/−19 (week of 2026-02-09), first snapshot day 0:
              survival boundaries.
* wrG_young — created day 40: counted for k = 1 only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.harness import build_with_dbt_only, query
from tests.landing import SHANGHAI, event, ms, sec, write_jsonl, write_orders

DAY0 = date(2026, 3, 2)  # a Monday
LATEST = 45
SNAPSHOT_GAP = {25, 26}  # no wecom_groups partition on these days


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def at(n: int, hhmm: str = "10:00") -> str:
    """Shanghai wall-clock time on day n."""
    return f"{day(n).isoformat()} {hhmm}"


# group -> (owner, creation day, first snapshot day, last snapshot day)
GROUPS = {
    "wrG_life": ("staff_amy", 0, 0, LATEST),
    "wrG_staff": ("staff_amy", 0, 0, LATEST),
    "wrG_chain": ("staff_bob", 0, 0, LATEST),
    "wrG_gone": ("staff_cat", 5, 5, 11),
    "wrG_s1": ("staff_dan", -21, 0, LATEST),
    "wrG_s2": ("staff_dan", -20, 0, LATEST),
    "wrG_s3": ("staff_dan", -19, 0, LATEST),
    "wrG_young": ("staff_dan", 40, 40, LATEST),
}

# (group, userid, join day, join time, scene, invitor, unionid, first day present, last day present)
MEMBERSHIPS = [
    ("wrG_life", "wmLife_a", 0, "11:00", 3, None, None, 0, LATEST),
    ("wrG_life", "wmLife_b", 0, "11:05", 2, None, None, 0, LATEST),
    ("wrG_life", "wmChain_A", 2, "12:00", 3, None, None, 2, LATEST),  # A bridges two owners
    ("wrG_staff", "wmStaff_a", 0, "11:00", 2, None, None, 0, LATEST),
    ("wrG_chain", "wmChain_A", 1, "09:00", 3, None, None, 1, LATEST),
    ("wrG_chain", "wmChain_L", 2, "11:00", 3, None, None, 2, 9),
    ("wrG_chain", "wmChain_L", 15, "09:00", 2, None, None, 15, LATEST),
    ("wrG_chain", "wmChain_B", 3, "09:30", 1, "wmChain_A", None, 3, LATEST),
    ("wrG_chain", "wmChain_G", 3, "20:00", 3, None, None, 3, 24),
    ("wrG_chain", "wmChain_C", 4, "08:00", 1, "wmChain_B", "uChain_C", 4, LATEST),
    ("wrG_gone", "wmGone_a", 5, "11:00", 3, None, None, 5, LATEST),
    ("wrG_gone", "wmGone_b", 6, "11:00", 3, None, None, 6, LATEST),
    ("wrG_s1", "wmS1_a", -21, "11:00", 3, None, None, 0, LATEST),
    ("wrG_s2", "wmS2_a", -20, "11:00", 3, None, None, 0, LATEST),
    ("wrG_s3", "wmS3_a", -19, "11:00", 3, None, None, 0, LATEST),
    ("wrG_young", "wmYoung_a", 40, "11:00", 3, None, None, 40, LATEST),
]


def _snapshot(group: str, n: int) -> dict:
    owner, created, _, _ = GROUPS[group]
    members = [{"userid": owner, "type": 1, "join_time": sec(at(created)), "join_scene": 1}]
    for g, userid, join_day, join_hhmm, scene, invitor, unionid, first, last in MEMBERSHIPS:
        if g == group and first <= n <= last:
            entry = {"userid": userid, "type": 2, "join_time": sec(at(join_day, join_hhmm)), "join_scene": scene,
                     "group_nickname": "", "name": "某客户"}
            if unionid:
                entry["unionid"] = unionid
            if invitor:
                entry["invitor"] = {"userid": invitor}
            members.append(entry)
    return {"errcode": 0, "errmsg": "ok", "group_chat": {
        "chat_id": group, "name": f"{group}福利群", "owner": owner, "create_time": sec(at(created)),
        "notice": "", "member_version": "v1", "member_list": members, "admin_list": []}}


def _message(msgid: str, sender: str, group: str, local: str, msgtype: str = "text") -> dict:
    record = {"msgid": msgid, "action": "send", "from": sender, "tolist": [], "roomid": group,
              "msgtime": ms(local), "msgtype": msgtype}
    if msgtype == "link":
        record["link"] = {"title": "限时", "description": "", "link_url": "https://shop.example/p/1", "image_url": ""}
    else:
        record["text"] = {"content": "你好"}
    return record


def _messages() -> list[dict]:
    out: list[dict] = []
    for n in range(0, 14):  # wrG_life: two member messages a day on days 0…13
        out += [_message(f"life-{n}-1", "wmLife_a", "wrG_life", at(n, "12:00")),
                _message(f"life-{n}-2", "wmLife_b", "wrG_life", at(n, "13:00"))]
    out.append(_message("staff-m-1", "wmStaff_a", "wrG_staff", at(1, "12:00")))
    for n in range(0, LATEST + 1):  # staff and bot chatter every day keep nothing alive
        out += [_message(f"staff-s-{n}", "staff_amy", "wrG_staff", at(n, "09:00")),
                _message(f"staff-b-{n}", "wbBot01", "wrG_staff", at(n, "09:05"))]
    out.append(_message("staff-m-40", "wmStaff_a", "wrG_staff", at(40, "12:00")))
    out.append({"msgid": "staff-r-40", "action": "recall", "from": "wmStaff_a", "tolist": [], "roomid": "wrG_staff",
                "msgtime": ms(at(40, "12:01")), "msgtype": "revoke", "revoke": {"pre_msgid": "staff-m-40"}})
    out += [
        _message("chain-a-1", "wmChain_A", "wrG_chain", at(1, "12:00")),
        _message("chain-a-10", "wmChain_A", "wrG_chain", at(10, "12:00")),
        _message("chain-l-20a", "wmChain_L", "wrG_chain", at(20, "12:00")),
        _message("chain-l-20b", "wmChain_L", "wrG_chain", at(20, "12:10")),
        _message("chain-b-30", "wmChain_B", "wrG_chain", at(30, "12:00")),
        _message("chain-card-35", "staff_bob", "wrG_chain", at(35, "10:00"), "link"),
        _message("gone-a-6", "wmGone_a", "wrG_gone", at(6, "12:00")),
        _message("s1-40", "wmS1_a", "wrG_s1", at(40, "12:00")),
        _message("s2-m6", "wmS2_a", "wrG_s2", at(-6, "12:00")),  # = creation + 14
        _message("s3-m19", "wmS3_a", "wrG_s3", at(-19, "12:00")),  # creation day only
        _message("young-41", "wmYoung_a", "wrG_young", at(41, "12:00")),
    ]
    return out


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("community")
    landing = root / "landing"
    for n in range(0, LATEST + 1):
        if n in SNAPSHOT_GAP:
            continue
        alive = [g for g, (_, created, first, last) in GROUPS.items() if first <= n <= last]
        write_jsonl(landing, "wecom_groups", day(n).isoformat(), [_snapshot(g, n) for g in alive])

    by_day: dict[str, list[dict]] = {}
    for record in _messages():
        local_day = datetime.fromtimestamp(record["msgtime"] / 1000, tz=SHANGHAI).date()
        by_day.setdefault(local_day.isoformat(), []).append(record)
    for dt, records in by_day.items():
        write_jsonl(landing, "wecom_messages", dt, records)

    write_jsonl(landing, "tracking", day(35).isoformat(), [
        event("ev-click-b", "link_click", at(35, "10:30"), "wecom_group", "d-chain-b",
              {"external_userid": "wmChain_B"}, group_id="wrG_chain", url="https://shop.example/p/1"),
    ])
    write_jsonl(landing, "tracking", day(44).isoformat(), [
        event("ev-push-1", "push_delivered", at(44, "09:00"), "oa_service", "d-p1", {"openid": "oP1", "appid": "wxsvc01"}),
        event("ev-push-2", "push_delivered", at(44, "09:00"), "oa_service", "d-p2", {"openid": "oP2", "appid": "wxsvc01"}),
        event("ev-push-3", "push_delivered", at(44, "09:00"), "oa_service", "d-p3"),
        event("ev-push-4", "push_delivered", at(44, "09:00"), "oa_service", "d-p4"),
        event("ev-push-4", "push_delivered", at(44, "09:00"), "oa_service", "d-p4"),  # repeated event_id: one event
        event("ev-open-1", "push_opened", at(44, "09:30"), "oa_service", "d-p1", {"openid": "oP1", "appid": "wxsvc01"}),
        event("ev-open-sub", "push_opened", at(44, "10:00"), "oa_subscription", "d-p9"),  # opened, never delivered
    ])
    write_orders(landing, day(6).isoformat(), [{
        "order_no": "CHAIN-C-1", "status": "TRADE_SUCCESS", "created_at": f"{day(6)} 20:00:00",
        "paid_at": f"{day(6)} 20:01:00", "updated_at": f"{day(6)} 20:01:00", "buyer_unionid": "uChain_C",
        "platform": "mini_program", "group_id": "wrG_chain", "total_amount": "100.00", "discount_amount": "0.00",
        "paid_amount": "100.00", "refund_amount": "20.00", "items": "[]"}])
    return build_with_dbt_only(landing, root / "build")


def _member(db: Path, userid: str) -> str:
    return query(db, "select member_id from intermediate.int_identity_map where identifier = ?",
                 [f"external_userid:{userid}"])[0][0]


def _daily(db: Path, group: str, column: str) -> dict[int, object]:
    rows = query(db, f"select business_date, {column} from marts.group_daily where group_id = ? order by 1", [group])
    return {(d - DAY0).days: v for d, v in rows}


def test_latest_business_date(warehouse: Path) -> None:
    assert query(warehouse, "select max(latest_business_date) from intermediate.int_calendar")[0][0] == day(LATEST)


def test_lifecycle_launch_active_declining_silent_dead(warehouse: Path) -> None:
    stages = _daily(warehouse, "wrG_life", "lifecycle_stage")
    assert sorted(stages) == list(range(0, LATEST + 1))
    expected = {n: "launch" for n in range(0, 7)}
    expected |= {n: "active" for n in range(7, 17)}
    expected |= {n: "declining" for n in range(17, 20)}
    expected |= {n: "silent" for n in range(20, 43)}
    expected |= {n: "dead" for n in range(43, LATEST + 1)}
    assert stages == expected
    assert _daily(warehouse, "wrG_life", "member_messages")[13] == 2
    assert _daily(warehouse, "wrG_life", "member_speakers")[13] == 2
    assert query(warehouse, "select lifecycle_stage, dissolved_at from marts.dim_group where group_id = 'wrG_life'") \
        == [("dead", None)]


def test_staff_chatter_and_recalled_message_keep_nothing_alive(warehouse: Path) -> None:
    stages = _daily(warehouse, "wrG_staff", "lifecycle_stage")
    assert stages[6] == "launch"
    assert stages[7] == "active"
    assert all(stages[n] == "silent" for n in range(8, 31))
    assert all(stages[n] == "dead" for n in range(31, LATEST + 1))
    members = _daily(warehouse, "wrG_staff", "member_messages")
    staff = _daily(warehouse, "wrG_staff", "staff_messages")
    assert members[40] == 0 and members[1] == 1 and sum(members.values()) == 1  # the recalled one does not count
    assert staff[40] == 1 and sum(staff.values()) == LATEST + 1  # bots are neither members nor staff
    assert query(warehouse, "select lifecycle_stage, members_now from marts.dim_group where group_id = 'wrG_staff'") \
        == [("dead", 1)]


def test_leave_and_rejoin(warehouse: Path) -> None:
    joins = _daily(warehouse, "wrG_chain", "joins")
    leaves = _daily(warehouse, "wrG_chain", "leaves")
    assert {n: v for n, v in joins.items() if v} == {1: 1, 2: 1, 3: 2, 4: 1, 15: 1}
    assert _daily(warehouse, "wrG_chain", "joins_invited")[3] == 1
    assert _daily(warehouse, "wrG_chain", "joins_qr")[3] == 1
    assert _daily(warehouse, "wrG_chain", "joins_link")[15] == 1
    assert {n: v for n, v in leaves.items() if v} == {10: 1}  # G's leave in the snapshot gap infers nothing
    ends = _daily(warehouse, "wrG_chain", "members_end")
    assert [ends[n] for n in (0, 1, 2, 3, 4, 9, 10, 14, 15, 24, 25, 26, 27, 45)] == \
        [0, 1, 2, 4, 5, 5, 4, 4, 5, 5, 5, 5, 4, 4]
    assert _daily(warehouse, "wrG_chain", "has_snapshot")[25] is False
    l_member = _member(warehouse, "wmChain_L")
    assert query(warehouse, "select joins, is_current_member from marts.group_member_activity "
                            "where group_id = 'wrG_chain' and member_id = ?", [l_member]) == [(2, True)]


def test_dissolved_group(warehouse: Path) -> None:
    rows = query(warehouse, "select created_at, dissolved_at, dissolved_date, members_now, peak_members, lifecycle_stage "
                            "from marts.dim_group where group_id = 'wrG_gone'")
    # created day 5 10:00 Shanghai = 02:00 UTC; dissolved 00:00 Shanghai of day 12 = 16:00 UTC of day 11
    assert rows == [(datetime.combine(day(5), datetime.min.time()).replace(hour=2),
                     datetime.combine(day(11), datetime.min.time()).replace(hour=16), day(12), 0, 2, "dead")]
    stages = _daily(warehouse, "wrG_gone", "lifecycle_stage")
    assert sorted(stages) == list(range(5, 13))
    assert stages[11] == "launch" and stages[12] == "dead"
    assert _daily(warehouse, "wrG_gone", "members_end")[12] == 0
    assert _daily(warehouse, "wrG_gone", "leaves")[12] == 2


def test_rows_start_at_first_snapshot(warehouse: Path) -> None:
    first = query(warehouse, "select min(business_date), max(business_date), count(*) from marts.group_daily "
                             "where group_id = 'wrG_s1'")
    assert first == [(day(0), day(LATEST), LATEST + 1)]
    assert query(warehouse, "select created_date, members_now from marts.dim_group where group_id = 'wrG_s1'") \
        == [(day(-21), 1)]


def test_effective_activity(warehouse: Path) -> None:
    assert _daily(warehouse, "wrG_chain", "link_clickers")[35] == 1
    assert _daily(warehouse, "wrG_chain", "cards_posted")[35] == 1
    orders = query(warehouse, "select orders, net_gmv from marts.group_daily where group_id = 'wrG_chain' "
                              "and business_date = ?", [day(6)])
    assert orders == [(1, pytest.approx(80))]


def test_survival(warehouse: Path) -> None:
    rows = {(w, k): (g, a, s) for w, k, g, a, s in query(
        warehouse, "select created_week, day_k, groups, alive_groups, alive_share from marts.group_survival")}
    feb9, mar2, apr6 = date(2026, 2, 9), date(2026, 3, 2), date(2026, 4, 6)
    assert {k: rows[(feb9, k)][:2] for k in (1, 7, 14, 30, 60)} == {1: (3, 2), 7: (3, 2), 14: (3, 2), 30: (3, 1), 60: (3, 1)}
    assert rows[(feb9, 1)][2] == pytest.approx(2 / 3)
    # wrG_life (last member message day 13), wrG_staff (day 1), wrG_chain (day 30), wrG_gone (created 5, message day 6)
    assert {k: rows[(mar2, k)][:2] for k in (1, 7, 14, 30)} == {1: (4, 4), 7: (4, 2), 14: (4, 1), 30: (4, 1)}
    assert (mar2, 60) not in rows
    assert rows[(apr6, 1)] == (1, 1, 1.0)
    assert not any(w == apr6 and k > 1 for w, k in rows)


def test_invite_chain_and_fission(warehouse: Path) -> None:
    a, b, c = (_member(warehouse, u) for u in ("wmChain_A", "wmChain_B", "wmChain_C"))
    rows = query(warehouse, "select inviter_member_id, invitee_member_id, group_id, business_date, join_scene, "
                            "invitee_bought_after_invite from marts.referrals order by business_date")
    assert rows == [(a, b, "wrG_chain", day(3), "invited", False), (b, c, "wrG_chain", day(4), "invited", True)]
    # the chain: who did A's invitees bring in?
    assert query(warehouse, "select second.invitee_member_id from marts.referrals as first "
                            "join marts.referrals as second on second.inviter_member_id = first.invitee_member_id "
                            "where first.inviter_member_id = ?", [a]) == [(c,)]
    fission = query(warehouse, "select members_joined, invites, inviters, invitees, k_factor, invitees_who_bought, "
                               "invitee_buyer_share, invite_rate from marts.group_fission where group_id = 'wrG_chain'")
    assert fission == [(5, 2, 2, 2, 1.0, 1, 0.5, 0.4)]
    assert query(warehouse, "select invites, k_factor from marts.group_fission where group_id = 'wrG_life'") == [(0, None)]


def test_member_activity_and_care_list(warehouse: Path) -> None:
    a, b, c, l_member = (_member(warehouse, u) for u in ("wmChain_A", "wmChain_B", "wmChain_C", "wmChain_L"))
    rows = {m: rest for m, *rest in query(
        warehouse, "select member_id, messages_30d, link_clicks_30d, activity_rank, formerly_active_now_silent "
                   "from marts.group_member_activity where group_id = 'wrG_chain'")}
    # last 30 days = days 16…45, the 30 before = days -14…15
    assert rows[b] == [1, 1, 1, False]  # a click outranks L's two messages
    assert rows[l_member] == [2, 0, 2, False]
    assert rows[a] == [0, 0, None, True]  # messaged day 1 and 10, invited day 3, silent since
    assert rows[c] == [0, 0, None, True]  # bought day 6 through the group
    assert query(warehouse, "select is_bridge, owners_joined from marts.group_member_activity "
                            "where group_id = 'wrG_chain' and member_id = ?", [a]) == [(True, 2)]
    assert query(warehouse, "select member_id, groups_joined, owners_joined from marts.member_bridges") == [(a, 2, 2)]


def test_channel_reach(warehouse: Path) -> None:
    rows = query(warehouse, "select business_date, channel, delivered, opened, open_rate from marts.channel_reach "
                            "order by channel")
    assert rows == [(day(44), "oa_service", 4, 1, 0.25), (day(44), "oa_subscription", 0, 1, None)]


def test_no_raw_pii_columns(warehouse: Path) -> None:
    columns = query(warehouse, "select table_name, column_name from information_schema.columns where table_schema = 'marts' "
                               "and table_name in ('dim_group', 'group_daily', 'group_member_activity', 'referrals', "
                               "'group_fission', 'member_bridges', 'channel_reach', 'group_survival')")
    assert len({t for t, _ in columns}) == 8
    assert not [c for _, c in columns if c in {"name", "phone", "remark", "content", "group_name"}]
