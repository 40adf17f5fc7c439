"""`siyu forget` (PIPL Art. 47, contracts §7): a person erased from every layer, as if never seen,
and kept out of every later load. Every expected value is computed by hand below.

Landing (Asia/Shanghai wall-clock; days 06-01 … 06-03 2026):

Person P (Zhou) — phone 13700001111, unionid oU_zhou_p, openids wxsub01:oSUB_zhou and wxmini01:oMP_zhou,
distinct_id zhou_d1, WeCom external_userid wmZhouP01:
* follower wxsub01/oSUB_zhou/oU_zhou_p (06-01 09:00);
* tracking: ev-p1 content_impression 06-01 10:00 {zhou_d1, wxmini01:oMP_zhou}; ev-p2 article_read
  06-01 11:00 {zhou_d1, oU_zhou_p, phone '137 0000 1111'} — re-sent in the 06-02 partition; ev-p3
  form_submit 06-02 09:00 {zhou_d1}; a truncated line of theirs in 06-02 (quarantined);
* contact wmZhouP01/oU_zhou_p with guide_x, remark_mobiles ['13700001111'];
* group g1 (owner guide_x; snapshots 06-01, 06-02, 06-03): guide_x, wmZhouP01, wmQ (invited by wmZhouP01), wmR;
* messages in g1 (06-02): m1 and m2 from wmZhouP01, m3 = wmZhouP01 recalls m2; m4 from wmQ to
  [guide_x, wmZhouP01, wmR]; m6 from wmR; m5 = guide_x 1:1 to wmZhouP01;
* order O-P1: paid 300.00 on 06-02 12:00 (phone '+86 137-0000-1111', wxmini01:oMP_zhou), re-sent
  on 06-03 with 100.00 refunded → net 200.00.

Q (wmQ/oU_q): ev-q1 content_impression 06-01 10:00, ev-q2 article_read 06-01 12:00 shared by
P (`inviter_id` zhou_d1); order O-Q1 paid 200.00 on 06-03. R (wmR/oU_r): ev-r1
content_impression 06-03 10:00. A store landline 13800000000 on unpaid orders of oU_s1 … oU_s4
(4 unionids > 3: non-identifying, contracts §4).

With P: 7 members (P, Q, R, s1 … s4); funnel exposure 3 → interest 2 (P, Q) → lead 1 (P) →
deal 1 (P); net GMV 400.00; 1 referral (P → Q); g1 ends 06-02 with 3 external members and has 3
member messages that day (m1, m4, m6: m2 recalled).
Without P (the same landing with every trace of P removed, the "never appeared" reference): 6
members; funnel 2 → 1 → 0 → 0; net GMV 200.00; 0 referrals; g1 2 members and 2 messages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from siyu.pii import DEMO_SALT
from tests.harness import build_warehouse, copy_build, query, run_siyu, siyu_env, working_db
from tests.landing import contact, event, ext_entry, follower, group, msg, recall, staff_entry, write_jsonl, write_orders
from tests.test_idempotency import assert_same_marts

P = {"phone": "13700001111", "unionid": "oU_zhou_p", "openid_sub": "oSUB_zhou", "openid_mini": "oMP_zhou",
     "distinct_id": "zhou_d1", "external_userid": "wmZhouP01", "name": "周女士"}
# every byte sequence of P's that must be gone from the warehouse's files
P_NEEDLES = [b"13700001111", b"137 0000 1111", b"137-0000-1111", b"oU_zhou_p", b"oSUB_zhou", b"oMP_zhou", b"zhou_d1",
             b"wmZhouP01", "周女士".encode()]
DAYS = ("2026-06-01", "2026-06-02", "2026-06-03")


# --------------------------------------------------------------------------- the landing folders
def _contacts(with_p: bool) -> list[dict]:
    return [contact("wmZhouP01", "oU_zhou_p", "guide_x", "2026-06-01 09:30", mobiles=["13700001111"], name=P["name"],
                    remark="周姐 VIP", state="qr-store")] if with_p else []


def _group(with_p: bool) -> dict:
    members = [staff_entry("guide_x", "2026-06-01 08:00")]
    if with_p:
        members.append(ext_entry("wmZhouP01", "oU_zhou_p", "2026-06-01 08:30"))
    # Q joined on P's invitation; as if P never existed, the invitation names nobody (join_scene kept)
    q = ext_entry("wmQ", "oU_q", "2026-06-01 14:00", invitor="wmZhouP01")
    if not with_p:
        del q["invitor"]
    members += [q, ext_entry("wmR", "oU_r", "2026-06-01 15:00")]
    return group("g1", "guide_x", "2026-06-01 08:00", members, name="沙发福利群")


def _messages(with_p: bool) -> list[dict]:
    others = ["guide_x", "wmZhouP01", "wmR"] if with_p else ["guide_x", "wmR"]
    rows = [msg("m4", "wmQ", "g1", "2026-06-02 10:00", others), msg("m6", "wmR", "g1", "2026-06-02 11:00", ["guide_x", "wmQ"])]
    if with_p:
        rows += [msg("m1", "wmZhouP01", "g1", "2026-06-02 09:00", ["guide_x", "wmQ", "wmR"]),
                 msg("m2", "wmZhouP01", "g1", "2026-06-02 09:05", ["guide_x", "wmQ", "wmR"]),
                 recall("m3", "wmZhouP01", "g1", "2026-06-02 09:06", of="m2"),
                 msg("m5", "guide_x", "", "2026-06-02 12:30", ["wmZhouP01"])]
    return rows


def _order(order_no: str, created: str, paid: str | None, amount: str, refund: str = "0.00", updated: str | None = None,
           status: str = "TRADE_SUCCESS", **buyer: str) -> dict:
    return {"order_no": order_no, "status": status, "created_at": created, "paid_at": paid or "",
            "updated_at": updated or paid or created, "platform": "mini_program", "total_amount": amount,
            "discount_amount": "0.00", "paid_amount": amount, "refund_amount": refund,
            "items": json.dumps([{"sku": "SF-1", "qty": 1}])} | buyer


def write_landing(root: Path, with_p: bool) -> Path:
    d1, d2, d3 = DAYS
    tracking_1 = [event("ev-q1", "content_impression", "2026-06-01 10:00", "douyin_kol", "q_d1", {"unionid": "oU_q"}),
                  event("ev-q2", "article_read", "2026-06-01 12:00", "douyin_kol", "q_d1", {"unionid": "oU_q"},
                        **({"inviter_id": "zhou_d1"} if with_p else {}))]
    tracking_2: list[dict | str] = []
    if with_p:
        p_read = event("ev-p2", "article_read", "2026-06-01 11:00", "douyin_kol", "zhou_d1",
                       {"unionid": "oU_zhou_p", "phone": "137 0000 1111"})
        tracking_1 += [event("ev-p1", "content_impression", "2026-06-01 10:00", "douyin_kol", "zhou_d1",
                             {"openid": "oMP_zhou", "appid": "wxmini01"}), p_read]
        tracking_2 += [p_read, event("ev-p3", "form_submit", "2026-06-02 09:00", "douyin_kol", "zhou_d1"),
                       '{"event_id":"ev-pbad","event":"article_read","identities":{"unionid":"oU_zhou_p","phone":"13700001111"']
    write_jsonl(root, "tracking", d1, tracking_1)
    write_jsonl(root, "tracking", d2, tracking_2 + [event("ev-x2", "content_impression", "2026-06-02 10:00", "sms")])
    write_jsonl(root, "tracking", d3, [event("ev-r1", "content_impression", "2026-06-03 10:00", "live", "r_d1",
                                             {"unionid": "oU_r"})])
    if with_p:
        write_jsonl(root, "oa_followers", d1, [follower("oSUB_zhou", "wxsub01", "oU_zhou_p", "2026-06-01 09:00")])
        write_jsonl(root, "wecom_contacts", d1, _contacts(True))
    for day in DAYS:
        write_jsonl(root, "wecom_groups", day, [_group(with_p)])
    write_jsonl(root, "wecom_messages", d2, _messages(with_p))
    p_buyer = {"buyer_phone": "+86 137-0000-1111", "buyer_openid": "oMP_zhou", "buyer_appid": "wxmini01"}
    orders_2 = [_order("O-P1", "2026-06-02 11:50:00", "2026-06-02 12:00:00", "300.00", **p_buyer)] if with_p else []
    orders_3 = [_order("O-Q1", "2026-06-03 09:00:00", "2026-06-03 09:10:00", "200.00", buyer_unionid="oU_q")]
    orders_3 += [_order(f"O-S{i}", "2026-06-03 12:00:00", None, "99.00", status="WAIT_BUYER_PAY",
                        buyer_phone="13800000000", buyer_unionid=f"oU_s{i}") for i in range(1, 5)]
    if with_p:
        orders_3.append(_order("O-P1", "2026-06-02 11:50:00", "2026-06-02 12:00:00", "300.00", refund="100.00",
                               updated="2026-06-03 15:00:00", **p_buyer))
    write_orders(root, d2, orders_2)
    write_orders(root, d3, orders_3)
    return root


def siyu(work_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = siyu_env(work_dir, warehouse=work_dir / "warehouse.duckdb", landing=work_dir.parent / "landing-with")
    result = run_siyu(list(args), env)
    if check and result.returncode != 0:
        raise AssertionError(f"siyu {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("forget")
    with_landing = write_landing(root / "landing-with", with_p=True)
    without_landing = write_landing(root / "landing-without", with_p=False)
    return {"root": root, "with": build_warehouse(with_landing, root / "with"),
            "without": build_warehouse(without_landing, root / "without")}


@pytest.fixture(scope="module")
def forgotten(built):
    """A copy of the with-P warehouse, after `siyu forget --phone` (spelled as on the order)."""
    work = built["root"] / "forgotten"
    copy_build(built["with"].parent, work)
    result = siyu(work, "forget", "--phone", "+86 137-0000-1111")
    return {"warehouse": work / "warehouse.duckdb", "output": result.stdout + result.stderr, "work": work}


def _one(db: Path, sql: str):
    return query(db, sql)[0]


# ----------------------------------------------------------------------------- hand-computed values
def test_the_reference_builds_hold_the_hand_computed_values(built):
    for db, members, funnel, gmv, referrals, g1 in (
            (built["with"], 7, (3, 2, 1, 1), 400, 1, (3, 3)),
            (built["without"], 6, (2, 1, 0, 0), 200, 0, (2, 2))):
        assert _one(db, "select count(*) from marts.dim_member")[0] == members
        assert _one(db, """select sum(exposure_members), sum(interest_members), sum(lead_members), sum(deal_members)
                           from marts.funnel_daily""") == funnel
        assert _one(db, "select sum(net_gmv) from marts.fct_orders")[0] == gmv
        assert _one(db, "select count(*) from marts.referrals")[0] == referrals
        assert _one(db, """select members_end, member_messages from marts.group_daily
                           where group_id = 'g1' and business_date = '2026-06-02'""") == g1


def test_forget_gives_the_marts_of_a_build_that_never_saw_the_person(built, forgotten):
    assert_same_marts(working_db(forgotten["warehouse"]), working_db(built["without"]))
    assert_same_marts(forgotten["warehouse"], built["without"])  # the published file too
    db = forgotten["warehouse"]
    assert _one(db, "select count(*) from marts.dim_member")[0] == 6
    assert _one(db, "select sum(net_gmv) from marts.fct_orders")[0] == 200


def test_the_command_reports_what_it_removed(forgotten):
    out = forgotten["output"]
    assert any(line.split()[:1] == ["members"] and line.split()[1:] == ["7", "→", "6"] for line in out.splitlines()), out
    assert "400.00 → 200.00" in out
    assert "3 → 2 → 1 → 1  ⇒  2 → 1 → 0 → 0" in out


def test_no_byte_of_the_person_is_left_in_any_file_the_warehouse_writes(forgotten):
    files = [p for p in forgotten["work"].rglob("*") if p.is_file()]
    assert any(p.name == "warehouse.work.duckdb" for p in files) and any(p.name == "warehouse.duckdb" for p in files)
    leaks = [(str(p.relative_to(forgotten["work"])), needle) for p in files for needle in P_NEEDLES
             if needle in p.read_bytes()]
    assert not leaks, f"the person is still in: {leaks}"


def test_the_request_is_kept_as_salted_hashes_only(forgotten):
    rows = query(working_db(forgotten["warehouse"]), "select key, identifier_kind from raw._forget_requests order by 2")
    kinds = sorted(k for _, k in rows)
    # phone, unionid, 2 openids (+ their bare values), external_userid, distinct_id
    assert kinds == ["distinct_id", "external_userid", "openid", "openid", "openid_value", "openid_value", "phone", "unionid"]
    assert all(len(key) == 64 and all(c in "0123456789abcdef" for c in key) for key, _ in rows)
    listing = siyu(forgotten["work"], "forget", "--list").stdout
    assert "1 forget request(s)" in listing and all(key in listing for key, _ in rows)


def test_the_ledger_counts_the_removed_records_as_suppressed(forgotten):
    db = working_db(forgotten["warehouse"])
    # tracking: ev-p1, ev-p2 (06-01), ev-p2 again and ev-p3 (06-02) loaded + the truncated line quarantined
    assert query(db, """select dt::varchar, loaded, quarantined, suppressed from raw._file_ledger
                        where source = 'tracking' order by dt""") == [
        ("2026-06-01", 2, 0, 2), ("2026-06-02", 1, 0, 3), ("2026-06-03", 1, 0, 0)]
    by_source = dict(query(db, "select source, sum(suppressed) from raw._file_ledger group by 1"))
    # follower 1, contact 1, messages m1 m2 m3 m5, order O-P1 twice; groups are rewritten, not removed
    assert by_source == {"tracking": 5, "oa_followers": 1, "wecom_contacts": 1, "wecom_messages": 4,
                         "orders": 2, "wecom_groups": 0}
    assert query(db, "select count(*) from raw._file_ledger where rows_in <> loaded + quarantined + suppressed") == [(0,)]


@pytest.fixture(scope="module")
def refreshed(built, forgotten):
    """After the forget, a `--full-refresh` reloads every landing file — P is still in them."""
    work = built["root"] / "refreshed"
    copy_build(forgotten["work"], work)
    siyu(work, "build", "--full-refresh")
    return work / "warehouse.duckdb"


def test_a_full_refresh_keeps_the_person_out(built, refreshed):
    assert_same_marts(working_db(refreshed), working_db(built["without"]))
    db = working_db(refreshed)
    assert query(db, "select sum(suppressed) from raw._file_ledger") == [(13,)]
    assert query(db, "select count(*) from raw._file_ledger where rows_in <> loaded + quarantined + suppressed") == [(0,)]
    assert query(db, "select count(*) from raw.quarantine where raw_text like '%oU_zhou_p%'") == [(0,)]


def test_a_redelivered_old_day_keeps_the_person_out(built, forgotten, tmp_path):
    """The 06-01 tracking file arrives again, changed (one more line of Q): it is reloaded, P suppressed."""
    work = tmp_path / "redelivered"
    copy_build(forgotten["work"], work)
    landing = tmp_path / "landing"
    shutil.copytree(built["root"] / "landing-with", landing)
    day_file = landing / "tracking" / "dt=2026-06-01" / "part-0000.jsonl"
    day_file.write_text(day_file.read_text() + json.dumps(
        event("ev-q9", "link_click", "2026-06-01 13:00", "douyin_kol", "q_d1", {"unionid": "oU_q"})) + "\n")
    built = run_siyu(["build", "--landing", str(landing), "--warehouse", str(work / "warehouse.duckdb")], siyu_env(work))
    assert built.returncode == 0, built.stderr[-3000:]
    db = working_db(work / "warehouse.duckdb")
    assert query(db, "select loaded, suppressed from raw._file_ledger where source = 'tracking' and dt = '2026-06-01'") == [(3, 2)]
    assert query(db, "select count(*) from staging.stg_tracking__events where distinct_id = 'zhou_d1'") == [(0,)]
    assert _one(db, "select count(*) from marts.dim_member")[0] == 6


# ------------------------------------------------------------ by each kind of identifier (raw only)
KINDS = [("phone", "137 0000 1111"), ("unionid", "oU_zhou_p"), ("openid", "wxsub01:oSUB_zhou"), ("openid", "wxmini01:oMP_zhou"),
         ("external_userid", "wmZhouP01"), ("distinct_id", "zhou_d1")]


@pytest.mark.parametrize("kind,value", KINDS)
def test_every_kind_of_identifier_finds_the_whole_person(built, tmp_path, monkeypatch, kind, value):
    """Erasing from raw (steps 1–3, no rebuild) by any of P's identifiers removes the same records."""
    from siyu import forget
    from siyu.settings import Settings

    work = tmp_path / "w"
    copy_build(built["with"].parent, work)
    monkeypatch.setenv("SIYU_WAREHOUSE", str(work / "warehouse.duckdb"))
    monkeypatch.delenv("SIYU_WORK_DB", raising=False)
    member, removed, _ = forget.erase_from_raw(Settings.from_env(), forget.identifier_of(kind, value, DEMO_SALT), DEMO_SALT)
    assert member is not None
    per_source: dict[str, int] = {}
    for counts in (removed.rows, removed.quarantined):
        for (source, _, _), n in counts.items():
            per_source[source] = per_source.get(source, 0) + n
    assert per_source == {"tracking": 5, "oa_followers": 1, "wecom_contacts": 1, "wecom_messages": 4, "orders": 2}
    assert removed.rewritten == {"wecom_groups": 3, "wecom_messages": 1, "tracking": 1}
    con = duckdb.connect(str(working_db(work / "warehouse.duckdb")), read_only=True)
    try:
        assert con.execute("select count(*) from raw.tracking where distinct_id = 'zhou_d1' or properties::varchar like '%zhou_d1%'"
                           ).fetchone() == (0,)
        assert con.execute("select count(*) from raw.wecom_groups where group_chat::varchar like '%wmZhouP01%'").fetchone() == (0,)
        assert con.execute("select count(*) from raw.wecom_messages where tolist::varchar like '%wmZhouP01%'").fetchone() == (0,)
    finally:
        con.close()


# ---------------------------------------------------------------------------------- refusals
def test_a_shared_identifier_is_refused_and_nothing_changes(built, tmp_path):
    work = tmp_path / "w"
    copy_build(built["with"].parent, work)
    before = (work / "warehouse.work.duckdb").read_bytes()
    env = siyu_env(work, warehouse=work / "warehouse.duckdb", landing=built["root"] / "landing-with")
    result = run_siyu(["forget", "--phone", "13800000000"], env)
    assert result.returncode == 2
    assert "shared by strangers" in result.stderr and "4 different people" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert (work / "warehouse.work.duckdb").read_bytes() == before


@pytest.mark.parametrize("args,message", [
    (["--phone", "12345"], "not a mainland mobile number"),
    (["--openid", "oMP_zhou"], "APPID:OPENID"),
    (["--unionid", " "], "an empty unionid identifies nobody"),
])
def test_malformed_identifiers_are_refused(built, tmp_path, args, message):
    result = siyu(tmp_path, "forget", *args, check=False)
    assert result.returncode == 2 and message in result.stderr


# ------------------------------------------------------------- a rebuild that fails or never runs
def test_without_a_landing_folder_nothing_is_erased(built, tmp_path):
    """The rebuild after an erasure reads the landing folder: without one, forget refuses first."""
    work = copy_build(built["with"].parent, tmp_path / "w")
    before = (work / "warehouse.work.duckdb").read_bytes()
    env = siyu_env(work, warehouse=work / "warehouse.duckdb", landing=tmp_path / "none")
    result = run_siyu(["forget", "--phone", "13700001111"], env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no landing partitions found" in result.stderr and "Nothing was erased" in result.stderr
    assert (work / "warehouse.work.duckdb").read_bytes() == before


def test_after_an_erasure_whose_rebuild_never_ran_the_next_build_rebuilds_whole(built, monkeypatch):
    """Steps 1–3 only (as when the rebuild fails), then a plain `siyu build`: the incremental staging
    tables still hold P's rows, so it must rebuild them whole — and publishes the marts without P."""
    from siyu import forget
    from siyu.settings import Settings

    work = copy_build(built["with"].parent, built["root"] / "rebuild-never-ran")  # beside landing-with, for siyu()
    monkeypatch.setenv("SIYU_WAREHOUSE", str(work / "warehouse.duckdb"))
    monkeypatch.delenv("SIYU_WORK_DB", raising=False)
    forget.erase_from_raw(Settings.from_env(), forget.identifier_of("unionid", "oU_zhou_p", DEMO_SALT), DEMO_SALT)
    rebuilt = siyu(work, "build")
    assert "rebuilding the incremental dbt models whole" in rebuilt.stdout
    assert_same_marts(working_db(work / "warehouse.duckdb"), working_db(built["without"]))
    assert_same_marts(work / "warehouse.duckdb", built["without"])
    assert "nothing new" in siyu(work, "build").stdout  # the successful build stamped the project again


def test_an_identifier_no_record_holds_rebuilds_nothing(built):
    work = copy_build(built["with"].parent, built["root"] / "nobody")  # beside landing-with, as siyu() expects
    published = (work / "warehouse.duckdb").read_bytes()
    result = siyu(work, "forget", "--unionid", "oU_nobody")
    assert "no member" in result.stdout and "nothing is rebuilt" in result.stdout
    assert "rebuilding" not in result.stdout and (work / "warehouse.duckdb").read_bytes() == published
    assert query(working_db(work / "warehouse.duckdb"), "select count(*) from raw._forget_requests") == [(1,)]
