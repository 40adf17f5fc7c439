"""The landing contract (contracts §3) as SQL: per source, how a record maps onto its raw
table and which rule it breaks, if any.

Each rule is a (condition, reason) pair of SQL expressions over the parsed record `j`
(JSON sources) or the text fields of a CSV row. The first rule a record breaks becomes its
quarantine reason; a record that breaks none is loaded. Keeping the contract in one
declarative place makes the reasons precise and the loader generic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .schema import (
    CHANNELS,
    MAX_DAYS_AFTER_PARTITION,
    MESSAGE_ACTIONS,
    MIN_TIMESTAMP,
    ORDER_PLATFORMS,
    ORDER_STATUSES,
    TRACKING_EVENTS,
)

INTEGER_TYPES = "('BIGINT', 'UBIGINT')"
ID_TYPES = "('VARCHAR', 'BIGINT', 'UBIGINT')"


def sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


@dataclass(frozen=True)
class SourceRules:
    columns: dict[str, str]  # raw column -> SQL expression producing it
    rules: list[tuple[str, str]]  # (condition that breaks the contract, reason SQL expression)


def _q(label: str) -> str:
    return "'" + label.replace("'", "''") + "'"


def required_id(path: str, label: str) -> list[tuple[str, str]]:
    return [
        (f"json_type(j, '{path}') is null or json_type(j, '{path}') = 'NULL' or trim(j->>'{path}') = ''",
         _q(f"missing required field {label}")),
        (f"json_type(j, '{path}') not in {ID_TYPES}",
         _q(f"wrong type: {label} must be a string, got ") + f" || lower(json_type(j, '{path}'))"),
    ]


def optional_id(path: str, label: str) -> list[tuple[str, str]]:
    return [
        (f"json_type(j, '{path}') not in {ID_TYPES} and json_type(j, '{path}') <> 'NULL'",
         _q(f"wrong type: {label} must be a string, got ") + f" || lower(json_type(j, '{path}'))"),
    ]


def epoch_rules(path: str, label: str, unit: str, dt: str, required: bool = True) -> list[tuple[str, str]]:
    """An integer epoch timestamp inside [2010-01-01, partition day + MAX_DAYS_AFTER_PARTITION].

    A value in the wrong unit lands far outside the range, so the reason names the likely mix-up.
    """
    per_second = 1000 if unit == "ms" else 1
    low = f"epoch(timestamp '{MIN_TIMESTAMP}')::bigint * {per_second}"
    high = f"epoch({latest_day(dt)}::timestamp)::bigint * {per_second}"
    other = "seconds" if unit == "ms" else "milliseconds"
    wanted = "milliseconds" if unit == "ms" else "seconds"
    value = f"(j->>'{path}')::bigint"
    rules: list[tuple[str, str]] = []
    if required:
        rules.append((f"json_type(j, '{path}') is null or json_type(j, '{path}') = 'NULL'",
                      _q(f"missing required field {label}")))
    present = f"json_type(j, '{path}') is not null and json_type(j, '{path}') <> 'NULL'"
    rules += [
        (f"{present} and json_type(j, '{path}') not in {INTEGER_TYPES}",
         _q(f"wrong type: {label} must be an integer epoch in {wanted}, got ") + f" || (j->'{path}')::varchar"),
        (f"{present} and {value} < {low}",
         _q(f"{label} ") + f" || {value} || " + _q(f" is before {MIN_TIMESTAMP} (epoch {other} where {wanted} are due?)")),
        (f"{present} and {value} > {high}",
         _q(f"{label} ") + f" || {value} || " + _q(f" is more than {MAX_DAYS_AFTER_PARTITION} days after the partition day"
                                                    f" (epoch {other} where {wanted} are due?)")),
    ]
    return rules


def list_rule(list_path: str, element_ok: str, reason: str) -> tuple[str, str]:
    """Every element of a JSON array must satisfy `element_ok` (a predicate on `e`)."""
    return (f"not coalesce(list_bool_and(list_transform(json_extract(j, '{list_path}[*]'), lambda e: coalesce({element_ok}, false))), true)",
            _q(reason))


def epoch_ok(expr: str, unit: str, dt: str) -> str:
    per_second = 1000 if unit == "ms" else 1
    expr = f"({expr})"  # DuckDB's -> binds looser than :: and comparisons
    return (f"(json_type({expr}) in {INTEGER_TYPES} and {expr}::bigint between "
            f"epoch(timestamp '{MIN_TIMESTAMP}')::bigint * {per_second} and "
            f"epoch({latest_day(dt)}::timestamp)::bigint * {per_second})")


def latest_day(dt: str) -> str:
    """The latest sane day of a record, as SQL: its partition day (a SQL expression) plus the allowance."""
    return f"(({dt}) + {MAX_DAYS_AFTER_PARTITION})"


def repeated_key_rule(path: str = "$") -> tuple[str, str]:
    """A JSON object with a repeated key is ambiguous (parsers disagree on which value wins)."""
    keys = f"json_keys(j->'{path}')"
    where = "" if path == "$" else f" in {path[2:]}"
    return (f"list_unique({keys}) <> len({keys})",
            f"'ambiguous JSON: repeated key \"' || list_filter({keys}, lambda key, pos: list_position({keys}, key) < pos)[1]"
            f" || '\"{where}'")


# A WeCom API response that is an error ({"errcode": 40001, "errmsg": …}) instead of the object asked for.
API_ERROR_RULE = ("json_type(j, '$.errcode') in ('BIGINT', 'UBIGINT') and (j->>'$.errcode')::bigint <> 0",
                  "'API error response: errcode ' || (j->>'$.errcode') || ' ' || coalesce(j->>'$.errmsg', '')")

OBJECT_RULES = [
    ("j is null", "'malformed JSON (not parseable)'"),
    ("json_type(j) <> 'OBJECT'", "'not a JSON object: ' || lower(json_type(j))"),
    repeated_key_rule(),
]


def tracking(dt: str) -> SourceRules:
    return SourceRules(
        columns={
            "event_id": "j->>'$.event_id'",
            "event": "j->>'$.event'",
            "time": "(j->>'$.time')::bigint",
            "distinct_id": "nullif(trim(j->>'$.distinct_id'), '')",
            "identities": "j->'$.identities'",
            "properties": "j->'$.properties'",
        },
        rules=OBJECT_RULES
        + required_id("$.event_id", "event_id")
        + required_id("$.event", "event")
        + [(f"(j->>'$.event') not in {sql_list(TRACKING_EVENTS)}", "'unknown event \"' || (j->>'$.event') || '\"'")]
        + epoch_rules("$.time", "time", "ms", dt)
        + optional_id("$.distinct_id", "distinct_id")
        + [
            ("json_type(j, '$.identities') not in ('OBJECT', 'NULL')", "'wrong type: identities must be an object'"),
            ("json_type(j, '$.properties') is distinct from 'OBJECT'", "'missing required object properties'"),
            repeated_key_rule("$.identities"),
            repeated_key_rule("$.properties"),
            ("coalesce(trim(j->>'$.properties.channel'), '') = ''", "'missing required field properties.channel'"),
            (f"(j->>'$.properties.channel') not in {sql_list(CHANNELS)}",
             "'unknown channel \"' || (j->>'$.properties.channel') || '\"'"),
        ]
        + optional_id("$.identities.unionid", "identities.unionid")
        + optional_id("$.identities.openid", "identities.openid")
        + optional_id("$.identities.external_userid", "identities.external_userid")
        + optional_id("$.identities.phone", "identities.phone")
        + [("coalesce(j->>'$.identities.openid', '') <> '' and coalesce(j->>'$.identities.appid', '') = ''",
            "'identities.openid without identities.appid'")],
    )


def wecom_contacts(dt: str) -> SourceRules:
    return SourceRules(
        columns={
            "external_userid": "j->>'$.external_contact.external_userid'",
            "external_contact": "j->'$.external_contact'",
            "follow_user": "j->'$.follow_user'",
        },
        rules=OBJECT_RULES
        + [API_ERROR_RULE,
           ("json_type(j, '$.external_contact') is distinct from 'OBJECT'", "'missing required object external_contact'"),
           repeated_key_rule("$.external_contact")]
        + required_id("$.external_contact.external_userid", "external_contact.external_userid")
        + optional_id("$.external_contact.unionid", "external_contact.unionid")
        + [("json_type(j, '$.follow_user') not in ('ARRAY', 'NULL')", "'wrong type: follow_user must be an array'"),
           list_rule("$.follow_user", "coalesce(e->>'userid', '') <> ''", "follow_user entry without userid"),
           list_rule("$.follow_user", epoch_ok("e->'createtime'", "s", dt),
                     "follow_user.createtime missing, not an integer, or outside the sane range (epoch seconds due)")],
    )


def wecom_groups(dt: str) -> SourceRules:
    return SourceRules(
        columns={
            "chat_id": "j->>'$.group_chat.chat_id'",
            "owner": "j->>'$.group_chat.owner'",
            "create_time": "(j->>'$.group_chat.create_time')::bigint",
            "group_chat": "j->'$.group_chat'",
        },
        rules=OBJECT_RULES
        + [API_ERROR_RULE,
           ("json_type(j, '$.group_chat') is distinct from 'OBJECT'", "'missing required object group_chat'"),
           repeated_key_rule("$.group_chat")]
        + required_id("$.group_chat.chat_id", "group_chat.chat_id")
        + epoch_rules("$.group_chat.create_time", "group_chat.create_time", "s", dt)
        + [("json_type(j, '$.group_chat.member_list') not in ('ARRAY', 'NULL')", "'wrong type: member_list must be an array'"),
           list_rule("$.group_chat.member_list", "coalesce(e->>'userid', '') <> ''", "member_list entry without userid"),
           list_rule("$.group_chat.member_list", "(e->>'type') in ('1', '2')", "member_list entry with type other than 1 (staff) or 2 (external)"),
           list_rule("$.group_chat.member_list", epoch_ok("e->'join_time'", "s", dt),
                     "member_list.join_time missing, not an integer, or outside the sane range (epoch seconds due)")],
    )


def wecom_messages(dt: str) -> SourceRules:
    return SourceRules(
        columns={
            "msgid": "j->>'$.msgid'",
            "action": "j->>'$.action'",
            '"from"': "j->>'$.from'",
            "tolist": "j->'$.tolist'",
            "roomid": "nullif(trim(j->>'$.roomid'), '')",
            "msgtime": "(j->>'$.msgtime')::bigint",
            "msgtype": "j->>'$.msgtype'",
            "message": "j",
        },
        rules=OBJECT_RULES
        + required_id("$.msgid", "msgid")
        + required_id("$.action", "action")
        + [(f"(j->>'$.action') not in {sql_list(MESSAGE_ACTIONS)}", "'unknown action \"' || (j->>'$.action') || '\"'")]
        + required_id("$.from", "from")
        + epoch_rules("$.msgtime", "msgtime", "ms", dt)
        + optional_id("$.roomid", "roomid")
        + [("(j->>'$.action') = 'recall' and coalesce(j->>'$.revoke.pre_msgid', '') = ''",
            "'recall without revoke.pre_msgid'")],
    )


def oa_followers(dt: str) -> SourceRules:
    return SourceRules(
        columns={
            "openid": "j->>'$.openid'",
            "appid": "j->>'$.appid'",
            "unionid": "nullif(trim(j->>'$.unionid'), '')",
            "subscribe": "(j->>'$.subscribe')::integer",
            "subscribe_time": "(j->>'$.subscribe_time')::bigint",
            "subscribe_scene": "j->>'$.subscribe_scene'",
            "qr_scene_str": "nullif(j->>'$.qr_scene_str', '')",
            "tagid_list": "j->'$.tagid_list'",
        },
        rules=OBJECT_RULES
        + required_id("$.openid", "openid")
        + required_id("$.appid", "appid")
        + optional_id("$.unionid", "unionid")
        + [("json_type(j, '$.subscribe') is null or json_type(j, '$.subscribe') = 'NULL'", "'missing required field subscribe'"),
           ("(j->'$.subscribe')::varchar not in ('0', '1')", "'subscribe must be 0 or 1, got ' || (j->'$.subscribe')::varchar")]
        + epoch_rules("$.subscribe_time", "subscribe_time", "s", dt),
    )


ORDER_COLUMNS = (
    "order_no", "status", "created_at", "paid_at", "updated_at", "buyer_phone", "buyer_openid",
    "buyer_appid", "buyer_unionid", "platform", "store_id", "guide_userid", "group_id", "campaign_id",
    "total_amount", "discount_amount", "paid_amount", "refund_amount", "items",
)
# Columns an orders export must have; the others (group_id, campaign_id, …) are optional.
ORDER_REQUIRED_COLUMNS = (
    "order_no", "status", "created_at", "paid_at", "updated_at", "platform", "paid_amount", "refund_amount",
)
CAMPAIGN_COST_COLUMNS = ("dt", "campaign_id", "channel", "cost")

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def _ts(col: str) -> str:
    return f"try_strptime(nullif(trim({col}), ''), '{TS_FORMAT}')"


def _money(col: str) -> str:
    return f"try_cast(coalesce(nullif(trim({col}), ''), '0') as decimal(18,2))"


def _ts_rules(col: str, dt: str, required: bool) -> list[tuple[str, str]]:
    rules = []
    if required:
        rules.append((f"coalesce(trim({col}), '') = ''", _q(f"missing required field {col}")))
    rules += [
        (f"coalesce(trim({col}), '') <> '' and {_ts(col)} is null",
         _q(f"wrong type: {col} must be YYYY-MM-DD HH:MM:SS, got '") + f" || {col} || ''''"),
        (f"{_ts(col)} < timestamp '{MIN_TIMESTAMP}'", _q(f"{col} ") + f" || {col} || " + _q(f" is before {MIN_TIMESTAMP}")),
        (f"{_ts(col)} > {latest_day(dt)}::timestamp",
         _q(f"{col} ") + f" || {col} || " + _q(f" is more than {MAX_DAYS_AFTER_PARTITION} days after the partition day")),
    ]
    return rules


def _money_rules(col: str) -> list[tuple[str, str]]:
    return [(f"{_money(col)} is null", _q(f"wrong type: {col} must be a decimal amount, got '") + f" || {col} || ''''"),
            (f"{_money(col)} < 0", _q(f"negative {col} ") + f" || {col}")]


def orders(dt: str) -> SourceRules:
    return SourceRules(
        columns={
            "order_no": "trim(order_no)",
            "status": "trim(status)",
            "created_at": _ts("created_at"),
            "paid_at": _ts("paid_at"),
            "updated_at": _ts("updated_at"),
            "buyer_phone": "nullif(trim(buyer_phone), '')",
            "buyer_openid": "nullif(trim(buyer_openid), '')",
            "buyer_appid": "nullif(trim(buyer_appid), '')",
            "buyer_unionid": "nullif(trim(buyer_unionid), '')",
            "platform": "trim(platform)",
            "store_id": "nullif(trim(store_id), '')",
            "guide_userid": "nullif(trim(guide_userid), '')",
            "group_id": "nullif(trim(group_id), '')",
            "campaign_id": "nullif(trim(campaign_id), '')",
            "total_amount": _money("total_amount"),
            "discount_amount": _money("discount_amount"),
            "paid_amount": _money("paid_amount"),
            "refund_amount": _money("refund_amount"),
            "items": "case when json_valid(items) then items::json end",
        },
        rules=[
            ("coalesce(trim(order_no), '') = ''", "'missing required field order_no'"),
            ("coalesce(trim(status), '') = ''", "'missing required field status'"),
            (f"trim(status) not in {sql_list(ORDER_STATUSES)}", "'unknown status \"' || status || '\"'"),
            ("coalesce(trim(platform), '') = ''", "'missing required field platform'"),
            (f"trim(platform) not in {sql_list(ORDER_PLATFORMS)}", "'unknown platform \"' || platform || '\"'"),
        ]
        + _ts_rules("created_at", dt, True)
        + _ts_rules("paid_at", dt, False)
        + _ts_rules("updated_at", dt, True)
        + _money_rules("total_amount") + _money_rules("discount_amount")
        + _money_rules("paid_amount") + _money_rules("refund_amount")
        + [("coalesce(trim(buyer_openid), '') <> '' and coalesce(trim(buyer_appid), '') = ''", "'buyer_openid without buyer_appid'"),
           ("coalesce(trim(items), '') <> '' and not json_valid(items)", "'items is not valid JSON'")],
    )


def campaign_costs(partition_day: str) -> SourceRules:
    return SourceRules(
        columns={
            "dt": "try_cast(trim(dt) as date)",
            "campaign_id": "trim(campaign_id)",
            "channel": "trim(channel)",
            "cost": "try_cast(trim(cost) as decimal(18,2))",
        },
        rules=[
            ("try_cast(trim(dt) as date) is null", "'wrong type: dt must be YYYY-MM-DD, got ''' || coalesce(dt, '') || ''''"),
            (f"try_cast(trim(dt) as date) < date '{MIN_TIMESTAMP}' or try_cast(trim(dt) as date) > "
             f"{latest_day(partition_day)}", "'dt ' || dt || ' outside the sane range'"),
            ("coalesce(trim(campaign_id), '') = ''", "'missing required field campaign_id'"),
            ("coalesce(trim(channel), '') = ''", "'missing required field channel'"),
            (f"trim(channel) not in {sql_list(CHANNELS)}", "'unknown channel \"' || channel || '\"'"),
            ("try_cast(trim(cost) as decimal(18,2)) is null", "'wrong type: cost must be a decimal amount, got ''' || coalesce(cost, '') || ''''"),
            ("try_cast(trim(cost) as decimal(18,2)) < 0", "'negative cost ' || cost"),
        ],
    )


RULES = {
    "tracking": tracking,
    "wecom_contacts": wecom_contacts,
    "wecom_groups": wecom_groups,
    "wecom_messages": wecom_messages,
    "oa_followers": oa_followers,
    "orders": orders,
    "campaign_costs": campaign_costs,
}
CSV_COLUMNS = {"orders": ORDER_COLUMNS, "campaign_costs": CAMPAIGN_COST_COLUMNS}
CSV_REQUIRED_COLUMNS = {"orders": ORDER_REQUIRED_COLUMNS, "campaign_costs": CAMPAIGN_COST_COLUMNS}


def reason_expression(rules: list[tuple[str, str]]) -> str:
    whens = "\n".join(f"        when coalesce({cond}, false) then {reason}" for cond, reason in rules)
    return f"case\n{whens}\n    end"


# (list name, function applied to the parsed record with all paths at once, pattern of single-path uses)
_HOISTED = (
    ("t", "json_type", re.compile(r"json_type\(j, '(\$[^']*)'\)")),
    ("k", "json_keys", re.compile(r"json_keys\(j->'(\$[^']*)'\)")),
    ("v", "json_extract_string", re.compile(r"\bj->>'(\$[^']*)'")),
    ("f", "json_extract", re.compile(r"\bj->'(\$[^']*)'")),
    # the elements of an array (list_rule): several rules walk the same array, which was one parse of
    # the whole record each (≈ 2/3 of the WeCom group snapshots' checks); a wildcard path has no
    # multi-path form, so this list holds one extraction per distinct array
    ("a", None, re.compile(r"json_extract\(j, '(\$[^']*)\[\*\]'\)")),
)


def _hoisted_list_sql(function: str | None, paths: list[str]) -> str:
    if function is None:
        return "[" + ", ".join(f"json_extract(j, '{p}[*]')" for p in paths) + "]"
    return f"{function}(j, [" + ", ".join(f"'{p}'" for p in paths) + "])"


def hoist_json_paths(expressions: list[str]) -> tuple[list[str], dict[str, tuple[str, int]]]:
    """Rewrite expressions over the parsed record `j` to read lists computed once per record.

    DuckDB parses a JSON document again for every path it reads; a source's rules read 20–40
    paths, so each kind of access (type, keys, string value, JSON fragment, an array's elements) is done once per record
    for all its paths, with DuckDB's multi-path functions (`json_type(j, [paths])` …), and the rules
    read plain columns unpacked from those lists (`t_1`, `v_2` … = element i of list t, v …), so they
    compare scalars. Semantics are unchanged: element i is what the single-path call returns (NULL
    where the path is absent). Returns the rewritten expressions and, per list name, the SQL that
    computes it and its length.
    """
    paths: dict[str, list[str]] = {name: [] for name, _, _ in _HOISTED}

    def index(name: str, path: str) -> int:
        if path not in paths[name]:
            paths[name].append(path)
        return paths[name].index(path) + 1

    out = []
    for expr in expressions:
        expr = expr.replace("json_keys(j)", "json_keys(j->'$')")
        for name, _, pattern in _HOISTED:
            expr = pattern.sub(lambda m, name=name: f"{name}_{index(name, m.group(1))}", expr)
        out.append(expr)
    lists = {name: (_hoisted_list_sql(function, paths[name]), len(paths[name]))
             for name, function, _ in _HOISTED if paths[name]}
    return out, lists
