"""The warehouse against the simulator's ground truth (it knows who is who and who did what):
member count, no merged strangers, funnel stages, open rates and group survival."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from siyu.pii import DEMO_SALT, hmac_sha256
from tests.harness import query


def _truth(landing: Path, name: str) -> list[dict]:
    with open(landing / "_truth" / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _identifier(kind: str, value: str) -> str:
    return f"phone:{hmac_sha256(value, DEMO_SALT)}" if kind == "phone" else f"{kind}:{value}"


def test_member_count_matches_people(simulated):
    landing, warehouse = simulated
    people = len(_truth(landing, "people.csv"))
    members = query(warehouse, "select count(*) from marts.dim_member")[0][0]
    assert abs(members - people) <= 0.005 * people, (members, people)


def test_no_member_holds_two_people(simulated):
    landing, warehouse = simulated
    person_of = {_identifier(r["kind"], r["value"]): r["person_id"] for r in _truth(landing, "identifiers.csv")}
    people_by_member: dict[str, set[str]] = defaultdict(set)
    for identifier, member in query(warehouse, "select identifier, member_id from intermediate.int_identity_map"):
        if identifier in person_of:
            people_by_member[member].add(person_of[identifier])
    merged = {m: p for m, p in people_by_member.items() if len(p) > 1}
    assert not merged
    # the simulator's shared phones are audited as non-identifying, not stitched
    settings = json.loads((landing / "_truth" / "settings.json").read_text())
    shared = {f"phone:{hmac_sha256(p, DEMO_SALT)}" for p in settings["shared_phones"] if p.startswith("1")}
    audited = {i for (i,) in query(warehouse, "select identifier from intermediate.int_identity_shared_identifiers")}
    assert shared <= audited


def test_funnel_matches_truth(simulated):
    landing, warehouse = simulated
    truth = _truth(landing, "funnel.csv")
    expected = [sum(1 for r in truth if r[f"{s}_at"]) for s in ("exposure", "interest", "lead", "deal")]
    actual = query(warehouse, """select sum(exposure_members), sum(interest_members), sum(lead_members),
                                 sum(deal_members) from marts.funnel_daily""")[0]
    for got, want in zip(actual, expected):
        assert abs(got - want) <= max(1, 0.01 * want), (actual, expected)


def test_open_rates_match_simulation(simulated):
    """Exactly the rates the simulator realised, and those within sampling noise of its settings."""
    landing, warehouse = simulated
    settings = json.loads((landing / "_truth" / "settings.json").read_text())
    realised = json.loads((landing / "_truth" / "summary.json").read_text())["open_rates_realised"]
    rows = query(warehouse, """select channel, sum(opened) / sum(delivered), sum(delivered) from marts.channel_reach
                               group by channel having sum(delivered) >= 1000""")
    assert rows
    for channel, rate, delivered in rows:
        assert abs(rate - realised[channel]) <= 0.0001, (channel, rate)
        target = settings["open_rates"][channel]
        noise = 3 * (target * (1 - target) / delivered) ** 0.5  # 3 sigma of a binomial share
        assert abs(rate - target) <= max(0.02, noise), (channel, rate, target)


def test_group_survival_day7_matches_truth(simulated):
    landing, warehouse = simulated
    latest = query(warehouse, "select max(latest_business_date) from intermediate.int_calendar")[0][0]
    counted = alive = 0
    for g in _truth(landing, "groups.csv"):
        mark = date.fromisoformat(g["create_date"]) + timedelta(days=7)
        if mark <= latest:
            counted += 1
            alive += bool(g["last_member_message_date"]) and date.fromisoformat(g["last_member_message_date"]) >= mark
    groups, alive_groups = query(warehouse, "select sum(groups), sum(alive_groups) from marts.group_survival where day_k = 7")[0]
    assert groups == counted
    assert abs(alive_groups / groups - alive / counted) <= 0.02
