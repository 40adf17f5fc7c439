"""Suites for the marts (contracts §6): grain, referential integrity, accepted values, funnel
monotonicity, rates in [0, 1], attribution credits, GMV reconciliation, freshness and a PII
scan. Validated inside DuckDB; surfaced as blocking Dagster checks before publishing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import duckdb
from great_expectations.expectations.metadata_types import FailureSeverity

from .sql_expectation import sql_string
from .suites import TableSuite, between, in_set, not_null, quote_ident, register, sql_check, unique

# Coverage gaps in the landing data (a message in a group without snapshots, a stale source)
# are reported as warnings: visible in the check and Data Docs, but they do not block publishing.
WARN = FailureSeverity.WARNING

FRESHNESS_LAG_DAYS = int(os.environ.get("SIYU_FRESHNESS_LAG_DAYS", "3"))

# ---------------------------------------------------------------------------------------------
# What a leaked phone number looks like (contracts §4)
# ---------------------------------------------------------------------------------------------
# A mart value leaks a phone when (a) or (b) holds:
#
# (a) The whole value IS a phone under contracts §4's normalisation. It consists of phone-ish
#     characters only -- digits, spaces/tabs, '+', '-', '(' and ')' -- and, after an optional
#     country code (+86, 0086 or a bare 86, possibly in parentheses), its digits read
#     1[3-9] followed by 9 digits. '13800138000', '+86 138 0013 8000', '0086-138-0013-8000',
#     '138-0013-8000', '(138) 0013-8000', '+8613800138000'. (A superset of §4's rule, which
#     strips only a leading +86/0086: a leak check errs on the side of catching.)
# (b) A phone token stands in longer text: optional country code, then 1[3-9] and 9 more
#     digits, single spaces or hyphens allowed between digits; on each side a BOUNDARY --
#     the start/end of the value, or a character that is neither an ASCII letter, digit or
#     '_' nor id glue (- : . / # @ = & ? % ~ | \), or a glue character that is itself not
#     attached to a letter/digit/'_' on its far side; or "tel:" before it.
#     'call 13800138000 now', '电话13800138000谢谢', '手机：138 0013 8000', 'tel 138-0013-8000.',
#     'tel:13800138000', '(+86)13800138000 please'.
#
# NOT a phone: identifiers whose digits are glued to letters, digits or id punctuation --
# 'ev-13800138000', 'order-15912345678', 'wm13800138000', 'm_0139000012340000',
# 'group_join:wr…:wm…:13800138000x', '13800138000.5', '13800138000_1' -- longer digit runs
# ('138001380001'), other prefixes ('12800138000', '0013800138000') and hex hashes.
# Known blind spots: full-width digits (１３８…), a phone written with '.' separators or
# glued to id punctuation ('phone:13800138000'), a phone stored in a numeric column.
_W = "0-9A-Za-z_"  # characters that make digits part of a word / id
_GLUE = r"\-:./#@=&?%~|\\"  # id punctuation ('ev-…', 'a:b', 'x.y', 'a/b', ...)
_CC = r"(?:\(?(?:\+|00)?86\)?)"  # country code: +86, 0086, 86, (+86)
_SEP = r"[ \t()+\-]"  # phone-ish characters other than digits
PHONE_WHOLE_VALUE = rf"^{_SEP}*(?:{_CC}{_SEP}*)?1{_SEP}*[3-9](?:{_SEP}*[0-9]){{9}}{_SEP}*$"
_TOKEN = rf"(?:{_CC}[ \-]?)?1[3-9](?:[ \-]?[0-9]){{9}}"
_LEFT = rf"(?:^|[^{_W}{_GLUE}]|(?:^|[^{_W}])[{_GLUE}]|(?i:tel):)"
_RIGHT = rf"(?:$|[^{_W}{_GLUE}]|[{_GLUE}](?:$|[^{_W}]))"
PHONE_IN_TEXT = rf"{_LEFT}{_TOKEN}{_RIGHT}"
# One RE2 pattern for DuckDB's regexp_matches (partial match): (a) or (b).
PHONE_PATTERN = rf"{PHONE_WHOLE_VALUE}|{PHONE_IN_TEXT}"

# Column types the PII scan reads: text (VARCHAR, JSON, ...) as is, lists of text element by
# element. Numbers, dates, booleans and decimals cannot hold a name or message text.
_NOT_TEXT = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT",
             "UTINYINT", "UHUGEINT", "DOUBLE", "FLOAT", "REAL", "BOOLEAN", "DATE", "TIME", "TIMESTAMP",
             "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "INTERVAL", "UUID", "BLOB")


def is_text_type(data_type: str) -> bool:
    """True for column types the PII scan reads (VARCHAR, JSON, VARCHAR[], STRUCT ..., not numbers/dates)."""
    t = data_type.strip().upper()
    while t.endswith("[]"):
        t = t[:-2]
    return not (t in _NOT_TEXT or t.startswith("DECIMAL") or t.startswith("TIME WITH"))


def mart_text_columns(db_path: str | Path) -> list[tuple[str, str, str]]:
    """(table, column, data_type) of every text column of every mart (VARCHAR, VARCHAR[], JSON ...)
    in the DuckDB file, tables and views alike: what the PII scan reads."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute("""select table_name, column_name, data_type from duckdb_columns()
                              where schema_name = 'marts' order by 1, 2""").fetchall()
    finally:
        con.close()  # GE opens its own connection next; one configuration per file per process
    return [r for r in rows if is_text_type(r[2])]


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
              "select e.event_id, e.member_id from (select * from {batch}) e "
              "where not exists (select 1 from marts.dim_member m where m.member_id = e.member_id)"),
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
              "select o.order_no, o.member_id from (select * from {batch}) o where o.member_id is not null "
              "and not exists (select 1 from marts.dim_member m where m.member_id = o.member_id)"),
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
              "select distinct d.group_id from (select * from {batch}) d "
              "where not exists (select 1 from marts.dim_group g where g.group_id = d.group_id)"),
    sql_check("every group message's group is in dim_group",
              "select distinct m.group_id from intermediate.int_group_messages_enriched m "
              "where not exists (select 1 from marts.dim_group g where g.group_id = m.group_id) "
              "and exists (select 1 from {batch})",
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


def _sql_str(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def pii_values_sql(string_columns: Iterable[Sequence[str]], batch_table: str = "dim_member") -> str:
    """``(mart, col, v)`` for every non-null text value of the given mart columns, one UNION ALL
    branch per column (DuckDB reads each column once). ``string_columns`` holds
    ``(table, column)`` or ``(table, column, data_type)``; list columns are read element by element,
    non-VARCHAR text (JSON, STRUCT ...) as its text. ``batch_table`` is read through ``{batch}``."""
    branches = []
    for entry in string_columns:
        table, column = entry[0], entry[1]
        data_type = (entry[2] if len(entry) > 2 else "VARCHAR").strip().upper()
        if not is_text_type(data_type):
            continue
        src = "{batch}" if table == batch_table else f"marts.{quote_ident(table)}"
        col = quote_ident(column)
        if data_type.endswith("[]"):
            value = f"cast(unnest({col}) as varchar)"
        elif data_type == "VARCHAR":
            value = col
        else:
            value = f"cast({col} as varchar)"
        branches.append(f"select {_sql_str(table)} as mart, {_sql_str(column)} as col, {value} as v "
                        f"from {src} where {col} is not null")
    return " union all ".join(branches) or "select null as mart, null as col, null as v from {batch} where false"


def pii_scan_suite(string_columns: Iterable[Sequence[str]], anchor: str = "dim_member") -> TableSuite:
    """Fails if any text value in a mart is (or contains) a phone number, is a WeCom display name
    or is message text.

    `string_columns` are ``(table, column[, data_type])`` of the marts' text columns (VARCHAR,
    VARCHAR[], JSON ...), read from the catalog at check time so new marts are scanned without
    editing this list.

    One expectation, one query, one pass over every column: each value goes once through the
    phone pattern (:data:`PHONE_PATTERN`) and one hash join against the set of display names and
    message texts from the raw layer. The unexpected rows are ``(mart, column, kind, values)``
    -- where the leak is and how many values, never the value itself. GE validates a query "on" a
    table: `anchor` is that mart (dim_member; another one when a partial Spark build has no dim_member).
    """
    values = pii_values_sql(list(string_columns), batch_table=anchor)
    names = ("select external_contact->>'$.name' as pii from raw.wecom_contacts "
             "union select unnest(cast(json_extract_string(group_chat, '$.member_list[*].name') as varchar[])) "
             "from raw.wecom_groups")
    texts = "select message->>'$.text.content' as pii from raw.wecom_messages"
    query = (
        f"with pii as (select distinct pii, 'WeCom display name' as kind from ({names}) where length(pii) >= 2 "
        f"union all select distinct pii, 'message text' as kind from ({texts}) where length(pii) >= 4), "
        f"vals as ({values}) "
        "select mart, col as \"column\", kind, count(*) as \"values\" from ("
        # strlen (bytes, O(1) in DuckDB) < 11 cannot hold 11 digits: skips the regex for ~1/3 of values
        "select vals.mart, vals.col, case when strlen(vals.v) >= 11 "
        f"and regexp_matches(vals.v, {sql_string(PHONE_PATTERN)}) "
        "then 'phone number' "
        "else pii.kind end as kind from vals left join pii on pii.pii = vals.v"
        ") where kind is not null group by all order by all"
    )
    return TableSuite(
        name="marts_pii_scan",
        table=f"marts.{anchor}",
        expectations=(
            sql_check("no mart value is or contains a phone number, is a WeCom display name or is message text",
                      query),
        ),
        description="PII scan over every text column of every mart, one pass.",
    )
