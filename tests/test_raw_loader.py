"""The raw loader against a corpus of bad landing files: the run finishes, every bad record is
quarantined with a precise reason, good records load, and rows in = loaded + quarantined."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from siyu.landing import loader
from siyu.landing.decoding import MAX_RECORD_BYTES
from siyu.landing.discovery import Partition, scan
from tests.landing import ORDER_HEADER, ms, sec

DT = "2026-05-18"
GOOD_EVENT = {"event_id": "e1", "event": "product_view", "time": ms("2026-05-18 10:00"), "distinct_id": "d1",
              "identities": {"unionid": "u1"}, "properties": {"channel": "mini_program"}}


def jsonl(*records) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n" for r in records)


def put(root: Path, source: str, name: str, data: bytes, dt: str = DT) -> Path:
    folder = root / source / f"dt={dt}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def load(root: Path, source: str, dt: str = DT) -> tuple[loader.PartitionStats, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    loader.ensure_raw_schema(con)
    part = scan(root, (source,)).partitions[source].get(date.fromisoformat(dt)) or Partition(source, date.fromisoformat(dt), [])
    [stats] = loader.load_partitions(con, source, [part])
    for f in stats.files:
        assert f.rows_in == f.loaded + f.quarantined  # the ledger, always
    return stats, con


def reasons(con) -> list[tuple[int, str]]:
    return con.execute("select line, reason from raw.quarantine order by file, line").fetchall()


def ev(**changes) -> dict:
    return {**GOOD_EVENT, **changes}


@pytest.mark.parametrize("bad, expected", [
    (b'{"event_id": "x", "event": "product_vi', "malformed JSON"),
    (b"[1, 2]", "not a JSON object: array"),
    (ev(event_id=None), "missing required field event_id"),
    (ev(event_id=""), "missing required field event_id"),
    (ev(event="teleport"), 'unknown event "teleport"'),
    (ev(time="1779069600000"), "wrong type: time must be an integer epoch in milliseconds"),
    (ev(time=sec("2026-05-18 10:00")), "is before 2010-01-01 (epoch seconds where milliseconds are due?)"),
    (ev(time=ms("2026-05-18 10:00") * 1000), "days after the partition day (epoch seconds where milliseconds"),
    (ev(time=ms("2099-01-01 00:00")), "days after the partition day"),
    (ev(time=ms("2009-12-31 23:00")), "is before 2010-01-01"),
    (ev(properties={"channel": "tv"}), 'unknown channel "tv"'),
    (ev(properties={}), "missing required field properties.channel"),
    (ev(identities={"openid": "o1"}), "identities.openid without identities.appid"),
    (ev(identities=["u1"]), "wrong type: identities must be an object"),
    (ev(distinct_id={"a": 1}), "wrong type: distinct_id must be a string"),
])
def test_tracking_bad_records_are_quarantined_with_reason(tmp_path, bad, expected):
    put(tmp_path, "tracking", "part.jsonl", jsonl(GOOD_EVENT, bad, ev(event_id="e3")))
    stats, con = load(tmp_path, "tracking")
    assert (stats.rows_in, stats.loaded, stats.quarantined) == (3, 2, 1)
    [(line, reason)] = reasons(con)
    assert line == 2 and expected in reason, reason
    raw_text = con.execute("select raw_text from raw.quarantine").fetchone()[0]
    assert raw_text == (bad.decode() if isinstance(bad, bytes) else json.dumps(bad, ensure_ascii=False))


def test_invalid_utf8_crlf_and_bom(tmp_path):
    data = b"\xef\xbb\xbf" + jsonl(GOOD_EVENT).replace(b"\n", b"\r\n") + b'{"event_id": "\xff\xfe"}\r\n' + jsonl(ev(event_id="e2"))
    put(tmp_path, "tracking", "part.jsonl", data)
    stats, con = load(tmp_path, "tracking")
    assert (stats.rows_in, stats.loaded, stats.quarantined) == (3, 2, 1)
    assert reasons(con) == [(2, "invalid UTF-8 at byte 14")]
    assert con.execute("select list(event_id order by _line) from raw.tracking").fetchone()[0] == ["e1", "e2"]


def test_unknown_extra_fields_are_kept_in_the_record(tmp_path):
    put(tmp_path, "tracking", "part.jsonl", jsonl(ev(new_field=1, properties={"channel": "ads", "x": "y"})))
    stats, con = load(tmp_path, "tracking")
    assert stats.loaded == 1
    assert con.execute("select properties->>'$.x' from raw.tracking").fetchone()[0] == "y"


def test_huge_record_is_quarantined_not_loaded(tmp_path):
    huge = ev(event_id="big", properties={"channel": "ads", "blob": "x" * (MAX_RECORD_BYTES + 10)})
    put(tmp_path, "tracking", "part.jsonl", jsonl(GOOD_EVENT, huge))
    stats, con = load(tmp_path, "tracking")
    assert (stats.loaded, stats.quarantined) == (1, 1)
    line, reason = reasons(con)[0]
    assert line == 2 and reason.startswith("record too large")
    assert len(con.execute("select raw_text from raw.quarantine").fetchone()[0]) < 70_000  # clipped


def test_empty_folder_and_header_only_file(tmp_path):
    (tmp_path / "tracking" / f"dt={DT}").mkdir(parents=True)
    stats, con = load(tmp_path, "tracking")
    assert (stats.rows_in, stats.loaded, stats.quarantined) == (0, 0, 0)
    put(tmp_path, "orders", "o.csv", (",".join(ORDER_HEADER) + "\n").encode())
    stats, con = load(tmp_path, "orders")
    assert (stats.rows_in, stats.loaded, stats.quarantined) == (0, 0, 0)


def test_duplicate_msgid_in_partition(tmp_path):
    msg = {"msgid": "m1", "action": "send", "from": "wmA", "tolist": ["staff"], "roomid": "r1",
           "msgtime": ms("2026-05-18 09:00"), "msgtype": "text", "text": {"content": "hi"}}
    put(tmp_path, "wecom_messages", "a.jsonl", jsonl(msg, {**msg, "msgid": "m2"}, msg))
    stats, con = load(tmp_path, "wecom_messages")
    assert (stats.loaded, stats.quarantined) == (2, 1)
    assert reasons(con) == [(3, "duplicate msgid in this partition (kept: file 1 line 1)")]


def test_recall_needs_pre_msgid_and_action_enum(tmp_path):
    base = {"msgid": "m9", "from": "wmA", "roomid": "r1", "msgtime": ms("2026-05-18 09:00"), "msgtype": "revoke"}
    put(tmp_path, "wecom_messages", "a.jsonl", jsonl({**base, "action": "recall"}, {**base, "msgid": "m10", "action": "delete"}))
    _, con = load(tmp_path, "wecom_messages")
    assert reasons(con) == [(1, "recall without revoke.pre_msgid"), (2, 'unknown action "delete"')]


def _orders_csv(rows: list[dict], header: list[str] = ORDER_HEADER) -> str:
    import csv
    import io
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r.get(k, "") for k in header})
    return buffer.getvalue()


ORDER = {"order_no": "O1", "status": "TRADE_SUCCESS", "created_at": "2026-05-18 10:00:00", "paid_at": "2026-05-18 10:01:00",
         "updated_at": "2026-05-18 10:01:00", "buyer_phone": "13900001234", "platform": "tmall",
         "total_amount": "10.00", "discount_amount": "0.00", "paid_amount": "10.00", "refund_amount": "0.00",
         "items": json.dumps([{"title": "沙发"}], ensure_ascii=False)}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_orders_encodings(tmp_path, encoding):
    put(tmp_path, "orders", "o.csv", _orders_csv([ORDER, {**ORDER, "order_no": "O2"}]).encode(encoding))
    stats, con = load(tmp_path, "orders")
    assert stats.files[0].encoding == encoding and stats.loaded == 2
    assert con.execute("select items->>'$[0].title' from raw.orders limit 1").fetchone()[0] == "沙发"


@pytest.mark.parametrize("change, expected", [
    ({"status": "SHIPPED"}, 'unknown status "SHIPPED"'),
    ({"platform": "pdd"}, 'unknown platform "pdd"'),
    ({"order_no": ""}, "missing required field order_no"),
    ({"paid_at": "18/05/2026 10:01"}, "wrong type: paid_at must be YYYY-MM-DD HH:MM:SS"),
    ({"paid_amount": "ten"}, "wrong type: paid_amount must be a decimal amount"),
    ({"created_at": "2009-01-01 00:00:00"}, "created_at 2009-01-01 00:00:00 is before 2010-01-01"),
    ({"buyer_openid": "o1"}, "buyer_openid without buyer_appid"),
])
def test_order_rules(tmp_path, change, expected):
    put(tmp_path, "orders", "o.csv", _orders_csv([{**ORDER, "order_no": "OK"}, {**ORDER, **change}]).encode())
    stats, con = load(tmp_path, "orders")
    assert (stats.loaded, stats.quarantined) == (1, 1)
    [(line, reason)] = reasons(con)
    assert line == 3 and expected in reason, reason


def test_order_resent_in_same_partition_newest_state_wins(tmp_path):
    newer = {**ORDER, "status": "TRADE_CLOSED", "refund_amount": "10.00", "updated_at": "2026-05-18 18:00:00"}
    put(tmp_path, "orders", "o.csv", _orders_csv([newer, ORDER]).encode())
    stats, con = load(tmp_path, "orders")
    assert con.execute("select status from raw.orders").fetchall() == [("TRADE_CLOSED",)]
    assert reasons(con) == [(3, "order_no superseded by a newer state in this partition (kept: file 1 line 2)")]


def test_schema_drift_new_column_and_missing_required_column(tmp_path):
    header = ORDER_HEADER + ["coupon_code"]
    put(tmp_path, "orders", "a.csv", _orders_csv([{**ORDER, "coupon_code": "X"}], header).encode())
    short = [h for h in ORDER_HEADER if h != "paid_amount"]
    put(tmp_path, "orders", "b.csv", _orders_csv([{**ORDER, "order_no": "O9"}], short).encode())
    stats, con = load(tmp_path, "orders")
    a, b = stats.files
    assert (a.loaded, a.quarantined, a.extra_columns) == (1, 0, ["coupon_code"])
    assert (b.loaded, b.quarantined) == (0, 1)
    assert reasons(con) == [(2, "header lacks required column(s): paid_amount")]


def test_wrong_field_count(tmp_path):
    text = _orders_csv([ORDER]) + "O7,TRADE_SUCCESS\r\n"
    put(tmp_path, "orders", "o.csv", text.encode())
    _, con = load(tmp_path, "orders")
    assert reasons(con) == [(3, f"expected {len(ORDER_HEADER)} fields as in the header, got 2")]


def test_group_and_contact_rules(tmp_path):
    group = {"group_chat": {"chat_id": "g1", "owner": "s1", "create_time": sec("2026-05-01 10:00"),
                            "member_list": [{"userid": "s1", "type": 1, "join_time": sec("2026-05-01 10:00")}]}}
    bad_member = json.loads(json.dumps(group))
    bad_member["group_chat"]["chat_id"] = "g2"
    bad_member["group_chat"]["member_list"].append({"userid": "wmX", "type": 2, "join_time": ms("2026-05-02 10:00")})
    put(tmp_path, "wecom_groups", "g.jsonl", jsonl(group, bad_member, {"errcode": 40001, "errmsg": "invalid credential"}))
    _, con = load(tmp_path, "wecom_groups")
    assert reasons(con) == [
        (2, "member_list.join_time missing, not an integer, or outside the sane range (epoch seconds due)"),
        (3, "API error response: errcode 40001 invalid credential"),
    ]


def test_array_entry_rules_each_name_their_reason_in_rule_order(tmp_path):
    """The member_list / follow_user rules read their array once per record (rules.hoist_json_paths):
    each rule still names its own reason, the first failing rule wins, and no array loads."""
    def group(chat_id: str, *members) -> dict:
        return {"group_chat": {"chat_id": chat_id, "owner": "s1", "create_time": sec("2026-05-01 10:00"),
                               **({"member_list": list(members)} if members else {})}}
    ok = {"userid": "s1", "type": 1, "join_time": sec("2026-05-01 10:00")}
    put(tmp_path, "wecom_groups", "g.jsonl", jsonl(
        group("g1", ok, {"userid": "wmA", "type": 2, "join_time": sec("2026-05-01 11:00")}),
        group("g2", ok, {"type": 2, "join_time": sec("2026-05-01 11:00")}),           # no userid
        group("g3", ok, {"userid": "wmB", "type": 3, "join_time": sec("2026-05-01 11:00")}),
        group("g4", {"userid": "", "type": 5}),                                        # both: userid's rule first
        group("g5"),                                                                   # no member_list at all
        {"group_chat": {"chat_id": "g6", "owner": "s1", "create_time": sec("2026-05-01 10:00"), "member_list": {}}},
    ))
    stats, con = load(tmp_path, "wecom_groups")
    assert reasons(con) == [
        (2, "member_list entry without userid"),
        (3, "member_list entry with type other than 1 (staff) or 2 (external)"),
        (4, "member_list entry without userid"),
        (6, "wrong type: member_list must be an array"),
    ]
    assert stats.loaded == 2

    contact = {"external_contact": {"external_userid": "wmC"},
               "follow_user": [{"userid": "s1", "createtime": sec("2026-05-01 10:00")}]}
    no_userid = json.loads(json.dumps(contact))
    no_userid["follow_user"].append({"createtime": sec("2026-05-01 11:00")})
    bad_time = json.loads(json.dumps(contact))
    bad_time["follow_user"].append({"userid": "s2", "createtime": ms("2026-05-01 11:00")})
    put(tmp_path, "wecom_contacts", "c.jsonl", jsonl(contact, no_userid, bad_time))
    stats, con = load(tmp_path, "wecom_contacts")
    assert reasons(con) == [
        (2, "follow_user entry without userid"),
        (3, "follow_user.createtime missing, not an integer, or outside the sane range (epoch seconds due)"),
    ]
    assert stats.loaded == 1


def test_reloading_a_partition_replaces_it(tmp_path):
    put(tmp_path, "tracking", "part.jsonl", jsonl(GOOD_EVENT, b"{bad"))
    con = duckdb.connect()
    loader.ensure_raw_schema(con)
    for _ in range(2):
        loader.load_landing(con, tmp_path, only_changed=False)
    assert con.execute("select count(*) from raw.tracking").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 1
    # unchanged partitions are skipped in incremental mode
    assert loader.load_landing(con, tmp_path, only_changed=True) == []


# ------------------------------------------------------------------ intake rules (contracts §3, issue 12)

def test_utf16_csv_keeps_its_first_row(tmp_path):
    """Excel's "Unicode text": before, the first data row became the header and a NUL a phantom record."""
    put(tmp_path, "orders", "o.csv", _orders_csv([ORDER, {**ORDER, "order_no": "O2"}]).encode("utf-16"))
    stats, con = load(tmp_path, "orders")
    assert stats.files[0].encoding == "utf-16"
    assert (stats.rows_in, stats.loaded) == (2, 2)
    assert con.execute("select order_no from raw.orders order by 1").fetchall() == [("O1",), ("O2",)]


def test_a_repeated_json_key_is_quarantined_as_ambiguous(tmp_path):
    text = json.dumps(GOOD_EVENT)[:-1] + ', "event": "push_opened"}'
    nested = json.dumps(GOOD_EVENT).replace('"unionid": "u1"', '"unionid": "u1", "unionid": "u2"')
    put(tmp_path, "tracking", "part.jsonl", (text + "\n" + nested + "\n").encode())
    _, con = load(tmp_path, "tracking")
    assert reasons(con) == [(1, 'ambiguous JSON: repeated key "event"'),
                            (2, 'ambiguous JSON: repeated key "unionid" in identities')]


def test_links_are_reported_and_never_read(tmp_path):
    secret = tmp_path / "outside" / "secret.jsonl"
    secret.parent.mkdir()
    secret.write_text("TOP-SECRET-LINE\n")
    put(tmp_path / "landing", "tracking", "part.jsonl", jsonl(GOOD_EVENT))
    (tmp_path / "landing" / "tracking" / f"dt={DT}" / "link.jsonl").symlink_to(secret)
    (tmp_path / "landing" / "tracking" / "dt=2026-05-19").symlink_to(secret.parent)
    landing = scan(tmp_path / "landing", ("tracking",))
    assert sorted(landing.skipped) == [(f"tracking/dt={DT}/link.jsonl", "symbolic link, not followed"),
                                       ("tracking/dt=2026-05-19", "symbolic link, not followed")]
    con = duckdb.connect()
    stats = loader.load_landing(con, tmp_path / "landing")
    assert [f.file for s in stats for f in s.files] == [f"tracking/dt={DT}/part.jsonl"]
    assert con.execute("select count(*) from raw.quarantine where raw_text like '%SECRET%'").fetchone()[0] == 0


def test_extensions_any_case_and_stray_entries_named(tmp_path):
    put(tmp_path, "tracking", "A.JSONL", jsonl(GOOD_EVENT))
    put(tmp_path, "tracking", "b.json", jsonl(ev(event_id="e2")))
    put(tmp_path, "orders", "o.Csv", _orders_csv([ORDER]).encode())
    (tmp_path / "tracking" / f"dt={DT}" / "more").mkdir()
    (tmp_path / "tracking" / "notes.txt").write_text("x")
    for bad in ("dt=2026-02-30", "dt=2026-8-6"):
        put(tmp_path, "tracking", "p.jsonl", jsonl(ev(event_id=bad)), dt=bad.removeprefix("dt="))
    landing = scan(tmp_path)
    assert sorted(landing.skipped) == sorted([
        ("tracking/dt=2026-02-30", "dt=2026-02-30 is not a real date (YYYY-MM-DD)"),
        ("tracking/dt=2026-8-6", "dt=2026-8-6 is not a real date (YYYY-MM-DD)"),
        (f"tracking/dt={DT}/b.json", "not a .jsonl file"),
        (f"tracking/dt={DT}/more", "sub-folder inside a partition (files must sit directly in dt=…/)"),
        ("tracking/notes.txt", "not a dt=YYYY-MM-DD partition folder"),
    ])
    con = duckdb.connect()
    loader.load_landing(con, tmp_path)
    assert con.execute("select count(*) from raw.tracking").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.orders").fetchone()[0] == 1


def test_a_same_size_correction_with_its_old_mtime_is_reloaded(tmp_path):
    path = put(tmp_path, "orders", "o.csv", _orders_csv([{**ORDER, "paid_amount": "957.00"}]).encode())
    con = duckdb.connect()
    loader.load_landing(con, tmp_path)
    stat = path.stat()
    path.write_bytes(_orders_csv([{**ORDER, "paid_amount": "857.00"}]).encode())  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` / `touch -r` would leave it
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert [p.dt for p in loader.load_landing(con, tmp_path)] == [date.fromisoformat(DT)]
    assert con.execute("select paid_amount::varchar from raw.orders").fetchall() == [("857.00",)]
    assert loader.load_landing(con, tmp_path) == []  # unchanged now: nothing reloads


def test_the_per_file_ledger_is_kept_in_the_working_database(tmp_path):
    put(tmp_path, "tracking", "a.jsonl", jsonl(GOOD_EVENT, b"{bad"))
    put(tmp_path, "tracking", "b.jsonl", jsonl(ev(event_id="e2")))
    con = duckdb.connect()
    loader.load_landing(con, tmp_path)
    assert con.execute("""select file, rows_in, loaded, quarantined, length(sha256) from raw._file_ledger
                          order by file""").fetchall() == [
        (f"tracking/dt={DT}/a.jsonl", 2, 1, 1, 64), (f"tracking/dt={DT}/b.jsonl", 1, 1, 0, 64)]


def test_missing_sources_are_named_in_a_warning(tmp_path, capsys):
    from siyu.build import report_skipped

    put(tmp_path, "tracking", "a.jsonl", jsonl(GOOD_EVENT))
    put(tmp_path, "orders", "o.csv", _orders_csv([ORDER]).encode())
    report_skipped(scan(tmp_path))
    err = capsys.readouterr().err
    assert ("warning: no landing data for 5 of 7 sources: wecom_contacts, wecom_groups, wecom_messages, "
            "oa_followers, campaign_costs") in err
    put(tmp_path, "wecom_contacts", "c.jsonl", jsonl(GOOD_EVENT))
    for source in ("wecom_groups", "wecom_messages", "oa_followers", "campaign_costs"):
        (tmp_path / source / f"dt={DT}").mkdir(parents=True)
        (tmp_path / source / f"dt={DT}" / "x.jsonl").write_text("")
    report_skipped(scan(tmp_path))
    assert "no landing data" not in capsys.readouterr().err


def test_stray_top_level_entries_are_named_as_files_or_folders(tmp_path, capsys):
    from siyu.build import report_skipped

    put(tmp_path, "tracking", "a.jsonl", jsonl(GOOD_EVENT))
    (tmp_path / "README.md").write_text("about these exports")
    (tmp_path / "trackings").mkdir()
    report_skipped(scan(tmp_path))
    err = capsys.readouterr().err
    assert "not loaded: README.md — a file beside the source folders" in err
    assert "not loaded: trackings — not a landing source folder (the sources: tracking, " in err
