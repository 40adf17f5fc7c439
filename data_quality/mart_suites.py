"""Suites for the marts (DESIGN §6): grain, referential integrity, accepted values, funnel
monotonicity, rates in [0, 1], attribution credits, GMV reconciliation, freshness and a PII
scan. Validated inside DuckDB; surfaced as blocking Dagster checks before publishing.
"""

from __future__ import annotations

import os

from great_expectations.expectations.metadata_types import FailureSeverity

from .suites import TableSuite, between, in_set, not_null, register, sql_check, unique

# Coverage gaps in the landing data (a message in a group without snapshots, a stale source)
# are reported as warnings: visible in the check and Data Docs, but they do not block publishing.
WARN = FailureSeverity.WARNING

FRESHNESS_LAG_DAYS = int(os.environ.get("SIYU_FRESHNESS_LAG_DAYS", "3"))

# A mainland mobile number standing alone in a value (hex hashes and ids are alphanumeric
# around their digits, so they do not match).
PHONE_PATTERN = r"(^|[^0-9A-Za-z])(\+?86[- ]?)?1[3-9][0-9]{9}([^0-9A-Za-z]|$)"

MART_SUITES: dict[str, TableSuite] = {}


def _mart(table: str, *expectations, description: str = "") -> TableSuite:
    flat = []
    for e in expectations:
        flat.extend(e if isinstance(e, list) else [e])
    suite = register(TableSuite(name=f"marts_{table}", table=f"marts.{table}", expectations=tuple(flat),
                                description=description))
    MART_SUITES[table] = suite
    return suite


_mart(
    "dim_member",
    not_null("member_id", "funnel_stage", "member_layer"),
    unique("member_id"),
    in_set("member_layer", ["core", "contributor", "active", "ordinary"]),
    in_set("funnel_stage", ["none", "exposure", "interest", "lead", "deal"]),
    between("order_count", 0, None),
    description="One row per member; layer and stage from the contract's vocabularies.",
)

_mart(
    "fct_touchpoint_events",
    not_null("event_id", "member_id", "event_at", "business_date", "channel"),
    unique("event_id"),
    sql_check("every event's member is in dim_member",
              "select e.event_id from (select * from {batch}) e left join marts.dim_member m using (member_id) where m.member_id is null"),
    sql_check(f"freshness: newest business_date within {FRESHNESS_LAG_DAYS} days of the newest landing partition",
              "select 1 from (select max(business_date) as d from {batch}) m, "
              "(select max(dt) as d from raw._load_log where source = 'tracking') l "
              f"where m.d is null or m.d < l.d - {FRESHNESS_LAG_DAYS}", severity=WARN),
    description="Grain, referential integrity and freshness of the touchpoint stream.",
)

_mart(
    "funnel_daily",
    not_null("cohort_date", "channel", "exposure_members"),
    sql_check("stage counts monotonic: deal <= lead <= interest <= exposure",
              "select * from {batch} where not (deal_members <= lead_members and lead_members <= interest_members "
              "and interest_members <= exposure_members)"),
    between("interest_rate", 0, 1),
    between("lead_rate", 0, 1),
    between("deal_rate", 0, 1),
    between("overall_conversion_rate", 0, 1),
    sql_check("funnel_daily adds up to fct_member_funnel",
              "select 1 from (select sum(exposure_members) as n from {batch}) d, "
              "(select count(*) as n from marts.fct_member_funnel) f where d.n <> f.n"),
    description="Monotonic funnel, rates within [0, 1], totals reconcile with the member funnel.",
)

_mart(
    "fct_orders",
    not_null("order_no", "status", "platform", "net_gmv"),
    unique("order_no"),
    sql_check("net GMV reconciles with staged orders to the cent",
              "select 1 from (select coalesce(sum(net_gmv), 0) as s from {batch}) m, "
              "(select coalesce(sum(case when paid_at is not null then paid_amount - refund_amount else 0 end), 0) as s "
              "from staging.stg_orders__orders) s where m.s <> s.s"),
    sql_check("every resolved order's member is in dim_member",
              "select o.order_no from (select * from {batch}) o left join marts.dim_member m using (member_id) "
              "where o.member_id is not null and m.member_id is null"),
    description="Latest state per order; GMV reconciles with staging.",
)

_mart(
    "order_attribution",
    not_null("order_no", "model", "channel", "credit"),
    in_set("model", ["first_touch", "last_touch", "linear", "time_decay"]),
    between("credit", 0, 1),
    sql_check("credits of every order sum to 1 per model",
              "select order_no, model, sum(credit) as credits from {batch} group by order_no, model having abs(sum(credit) - 1) > 1e-9"),
    sql_check("every paid order is attributed under every model",
              "select o.order_no from marts.fct_orders o left join "
              "(select order_no, count(distinct model) as models from {batch} group by order_no) a "
              "on a.order_no = o.order_no where o.is_paid and coalesce(a.models, 0) <> 4"),
    description="Credits sum to 1 per order and model; every paid order attributed.",
)

_mart(
    "channel_reach",
    not_null("business_date", "channel"),
    between("open_rate", 0, None),
    sql_check("no row without deliveries or opens",
              "select * from {batch} where coalesce(delivered, 0) = 0 and coalesce(opened, 0) = 0"),
    description="Reach per channel and day; open_rate null without deliveries.",
)

_mart(
    "group_daily",
    not_null("group_id", "business_date", "members_end", "lifecycle_stage"),
    in_set("lifecycle_stage", ["launch", "active", "declining", "silent", "dead"]),
    sql_check("every group of group_daily is in dim_group",
              "select d.group_id from (select * from {batch}) d left join marts.dim_group g using (group_id) where g.group_id is null"),
    sql_check("every group message's group is in dim_group",
              "select m.group_id from intermediate.int_group_messages_enriched m "
              "left join marts.dim_group g using (group_id) where g.group_id is null and exists (select 1 from {batch})",
              severity=WARN),
    between("members_end", 0, None),
    description="Group-day grain, lifecycle vocabulary, referential integrity with dim_group.",
)

_mart(
    "group_survival",
    not_null("created_week", "day_k", "groups", "alive_share"),
    in_set("day_k", [1, 7, 14, 30, 60]),
    between("alive_share", 0, 1),
    description="Survival shares within [0, 1] for the contract's day marks.",
)

_mart(
    "cohort_retention",
    not_null("cohort_month", "months_since", "cohort_members"),
    sql_check("retained and repeat buyers never exceed the cohort",
              "select * from {batch} where retained_members > cohort_members or repeat_buyers > cohort_members"),
    description="Cohort counts bounded by the cohort size.",
)


def pii_scan_suite(string_columns: list[tuple[str, str]]) -> TableSuite:
    """Fails if any string value in a mart is a phone number, a WeCom display name or message text.

    `string_columns` are (table, column) pairs of the marts' VARCHAR columns, read from the
    catalog at check time so new marts are scanned without editing this list.
    """
    # the suite's own table goes through {batch}; GE substitutes it (and wants it used)
    values = " union all ".join(
        f"select '{t}' as mart, '{c}' as col, \"{c}\" as v "
        f"from {'{batch}' if t == 'dim_member' else f'marts.{chr(34)}{t}{chr(34)}'} where \"{c}\" is not null"
        for t, c in string_columns) or "select null as mart, null as col, null as v from {batch} where false"
    pattern = PHONE_PATTERN.replace("{", "{{").replace("}", "}}")  # GE formats the query: double literal braces
    names = ("select distinct external_contact->>'$.name' as pii from raw.wecom_contacts "
             "union select distinct unnest(cast(json_extract_string(group_chat, '$.member_list[*].name') as varchar[])) "
             "from raw.wecom_groups")
    texts = "select distinct message->>'$.text.content' as pii from raw.wecom_messages"
    return TableSuite(
        name="marts_pii_scan",
        table="marts.dim_member",
        expectations=(
            sql_check("no mart value holds a phone number",
                      f"select mart, col from ({values}) where regexp_matches(v, '{pattern}') limit 20"),
            sql_check("no mart value is a WeCom display name",
                      f"select mart, col from ({values}) vals join ({names}) p on vals.v = p.pii "
                      "where length(p.pii) >= 2 limit 20"),
            sql_check("no mart value is message text",
                      f"select mart, col from ({values}) vals join ({texts}) p on vals.v = p.pii "
                      "where length(p.pii) >= 4 limit 20"),
        ),
        description="PII scan over every VARCHAR column of every mart.",
    )
