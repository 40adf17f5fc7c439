"""Identity stitching labels again only the components a new day touches (issue #10), and the result
is the full recompute's: a merge, a split (a phone that becomes shared), a new island and untouched
islands, built day by day in one working database and at once in another.

Day 1 (2026-06-01), components labelled by their smallest identifier:
  K1 {phone P, unionid u1, u2, u3}  — orders of 3 unionids on one phone: identifying, one member
  K2 {distinct_id a, unionid ua} · K3 {distinct_id b, unionid ub} · K4..K6 {distinct_id c / f / g}
Day 2 (2026-06-02):
  an order of P with a 4th unionid u4  → P is shared (4 > identity_max_unionids = 3): it leaves the
                                         graph, K1 falls apart into {u1} {u2} {u3} {u4}
  an event {distinct_id a, unionid ub} → K2 and K3 merge, labelled distinct_id:a
  an event {distinct_id e, unionid ue} → a new island
Dirty on day 2: u1, u2, u3 (lost their edge to P), P (left), a and ub (a new edge): the old components
K1, K2, K3 are labelled again with the new identifiers u4, e, ue — 3 + 4 + 3 = 10 identifiers; K4..K6
keep their rows (13 identifiers in all).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siyu.pii import DEMO_SALT, hmac_sha256
from tests.harness import build_with_dbt_only, query
from tests.landing import event, write_jsonl, write_orders

pytestmark = pytest.mark.e2e

DAY1, DAY2 = "2026-06-01", "2026-06-02"
P = "phone:" + hmac_sha256("13700001111", DEMO_SALT)


def order(order_no: str, local: str, unionid: str) -> dict:
    return {"order_no": order_no, "status": "TRADE_SUCCESS", "platform": "mini_program", "created_at": local,
            "paid_at": local, "updated_at": local, "total_amount": "10.00", "paid_amount": "10.00",
            "discount_amount": "0.00", "refund_amount": "0.00",
            "items": json.dumps([{"sku": "SF-1", "title": "单人沙发", "qty": 1}], ensure_ascii=False),
            "buyer_phone": "13700001111", "buyer_unionid": unionid}


def write_day1(root: Path) -> None:
    write_orders(root, DAY1, [order(f"o{i}", f"{DAY1} 0{i}:00:00", f"u{i}") for i in (1, 2, 3)])
    write_jsonl(root, "tracking", DAY1, [
        event(f"e_{who}", "article_read", f"{DAY1} 10:00", "oa_subscription", distinct_id=who,
              identities={"unionid": f"u{who}"} if who in "ab" else {})
        for who in "abcfg"])


def write_day2(root: Path) -> None:
    write_orders(root, DAY2, [order("o4", f"{DAY2} 09:00:00", "u4")])
    write_jsonl(root, "tracking", DAY2, [
        event("e_link", "product_view", f"{DAY2} 10:00", "mini_program", distinct_id="a", identities={"unionid": "ub"}),
        event("e_new", "article_read", f"{DAY2} 11:00", "oa_subscription", distinct_id="e", identities={"unionid": "ue"})])


# the identity models and what they are built from (staging, seeds), with their tests: a third of the project
IDENTITY_MODELS = "+int_identity_record_members"


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """The working database after day 1, after day 2 on top of it, and of both days at once."""
    landing = tmp_path_factory.mktemp("landing")
    with pytest.MonkeyPatch.context() as env:  # P's hash above uses the demo salt
        env.delenv("SIYU_PII_SALT", raising=False)
        env.setenv("SIYU_DEMO", "1")
        write_day1(landing)
        daily = tmp_path_factory.mktemp("daily")
        after_day1 = build_with_dbt_only(landing, daily, IDENTITY_MODELS)
        day1_components = query(after_day1, "select identifier, component from intermediate.int_identity_components order by 1")
        write_day2(landing)
        incremental = build_with_dbt_only(landing, daily, IDENTITY_MODELS)
        fresh = build_with_dbt_only(landing, tmp_path_factory.mktemp("fresh"), IDENTITY_MODELS)
    return {"day1": day1_components, "incremental": incremental, "incremental_log": daily / "dbt-build.log",
            "fresh": fresh}


def components(db: Path) -> dict[str, str]:
    return dict(query(db, "select identifier, component from intermediate.int_identity_components"))


def test_day_one_has_the_phone_joining_three_unionids(builds):
    assert dict(builds["day1"]) == {
        P: P, "unionid:u1": P, "unionid:u2": P, "unionid:u3": P,
        "distinct_id:a": "distinct_id:a", "unionid:ua": "distinct_id:a",
        "distinct_id:b": "distinct_id:b", "unionid:ub": "distinct_id:b",
        "distinct_id:c": "distinct_id:c", "distinct_id:f": "distinct_id:f", "distinct_id:g": "distinct_id:g"}


def test_a_new_day_splits_merges_and_adds_as_a_full_recompute_does(builds):
    expected = {
        "unionid:u1": "unionid:u1", "unionid:u2": "unionid:u2", "unionid:u3": "unionid:u3", "unionid:u4": "unionid:u4",
        "distinct_id:a": "distinct_id:a", "unionid:ua": "distinct_id:a",
        "distinct_id:b": "distinct_id:a", "unionid:ub": "distinct_id:a",
        "distinct_id:e": "distinct_id:e", "unionid:ue": "distinct_id:e",
        "distinct_id:c": "distinct_id:c", "distinct_id:f": "distinct_id:f", "distinct_id:g": "distinct_id:g"}
    assert components(builds["fresh"]) == expected
    assert components(builds["incremental"]) == expected
    # the whole table, digests included, and the members built on it are the fresh build's
    for table in ("int_identity_components", "int_identity_map", "int_identity_record_members"):
        sql = f"select * from intermediate.{table} order by all"
        assert query(builds["incremental"], sql) == query(builds["fresh"], sql), table


def test_only_the_touched_components_were_labelled_again(builds):
    log = builds["incremental_log"].read_text()
    assert "identity stitching: 10 identifiers labelled" in log, log[-3000:]
    # nothing scratch is left in the working database
    assert query(builds["incremental"], "select table_name from information_schema.tables "
                                        "where table_name like 'int_identity_labels__%'") == []
