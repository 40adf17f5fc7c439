"""Keeping forgotten people out of the raw layer (PIPL Art. 47, contracts §7 `siyu forget`).

A forget request is stored only as salted hashes of the person's identifiers (`raw._forget_requests`:
`key` = SHA-256 of salt, a separator and the identifier written `kind:value` as in the identity
graph, contracts §4). One implementation serves both moments:

* `siyu forget` runs it over every partition, right after recording a request;
* the loader runs it over the partitions it has just loaded, inside their transaction, so a
  re-delivered day or a `--full-refresh` never brings the person back. What it removes is
  counted per file as *suppressed* in `raw._file_ledger` (rows in = loaded + quarantined +
  suppressed).

Per source, a record is the person's when any identifier it carries is forgotten, and then every
copy of that record goes (all rows of the same event_id, order_no, msgid, contact or follower).
Records that merely mention the person are rewritten instead: their entry in a group snapshot is
dropped, an `invitor` naming them is removed, they are taken off other messages' `tolist`, and a
tracking event's `inviter_id` / `share_from` naming them is removed. Quarantined lines are matched
by the tokens of their raw text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import duckdb

from ..pii import PII_HASH_DUCKDB_SQL, set_pii_pads

REQUESTS_DDL = """
    key varchar not null primary key,
    identifier_kind varchar not null,
    request_id varchar not null,
    requested_at timestamp not null,
    salt_fingerprint varchar not null"""

KEY_SEPARATOR = "\x1f"

# Phone normalisation of contracts §4, as the staging models' `normalize_phone` macro writes it.
def normalize_phone_sql(expr: str) -> str:
    return (f"nullif(regexp_extract(regexp_replace(regexp_replace(trim({expr}), '^(\\+86|0086)', ''), "
            f"'[^0-9]', '', 'g'), '^1[3-9][0-9]{{9}}$'), '')")


def _phone(expr: str) -> str:
    return "'phone:' || " + PII_HASH_DUCKDB_SQL.format(value=normalize_phone_sql(expr))


def _strip(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


# The identifiers each raw record carries, written as the identity graph writes them
# (`int_identity_records`); phones hashed by the SQL HMAC the dbt macro `hash_phone` writes.
RECORD_IDENTIFIERS: dict[str, str] = {
    "tracking": f"""list_value(
        'distinct_id:' || distinct_id,
        'unionid:' || {_strip("identities ->> '$.unionid'")},
        'openid:' || {_strip("identities ->> '$.appid'")} || ':' || {_strip("identities ->> '$.openid'")},
        'external_userid:' || {_strip("identities ->> '$.external_userid'")},
        {_phone("identities ->> '$.phone'")})""",
    "wecom_contacts": f"""list_concat(
        list_value('external_userid:' || external_userid, 'unionid:' || {_strip("external_contact ->> '$.unionid'")}),
        list_transform(coalesce(cast(json_extract_string(follow_user, '$[*].remark_mobiles[*]') as varchar[]), []),
                       lambda p: {_phone('p')}))""",
    # a message is the person's when they sent it, or when it was a 1:1 message to them
    "wecom_messages": """list_concat(
        list_value('external_userid:' || "from"),
        case when coalesce(roomid, '') = ''
             then list_transform(coalesce(cast(json_extract_string(tolist, '$[*]') as varchar[]), []),
                                 lambda t: 'external_userid:' || t)
             else [] end)""",
    "oa_followers": "list_value('openid:' || appid || ':' || openid, 'unionid:' || unionid)",
    "orders": f"""list_value({_phone('buyer_phone')},
        'openid:' || buyer_appid || ':' || buyer_openid, 'unionid:' || buyer_unionid)""",
}

# All copies of a record go together (a re-sent event, an order's older states, every version of a contact).
RECORD_KEY: dict[str, str] = {
    "tracking": "event_id",
    "wecom_contacts": "external_userid",
    "wecom_messages": "msgid",
    "oa_followers": "coalesce(appid, '') || ':' || openid",
    "orders": "order_no",
}

# A bare value in free text may be any of these kinds (an openid is also recorded without its appid).
TOKEN_KINDS = ("unionid", "external_userid", "distinct_id", "openid_value")


def request_key(identifier: str, salt: str) -> str:
    """The salted hash a forget request keeps of one identifier ('kind:value')."""
    return hashlib.sha256((salt + KEY_SEPARATOR + identifier).encode()).hexdigest()


def _key_sql(identifier_expr: str) -> str:
    return f"sha256(getvariable('siyu_forget_salt') || {identifier_expr})"


@dataclass
class Suppressed:
    """What one suppression pass removed or rewrote, per (source, partition day, file)."""
    rows: dict[tuple[str, date, str], int] = field(default_factory=dict)
    quarantined: dict[tuple[str, date, str], int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + sum(self.quarantined.values())

    @property
    def changed_anything(self) -> bool:
        """Whether the pass removed or rewrote any record (the models built from raw are then stale)."""
        return bool(self.total or any(self.rewritten.values()))

    def per_file(self, source: str) -> dict[tuple[date, str], tuple[int, int]]:
        """(partition day, file) -> (loaded rows removed, quarantined rows removed) for one source."""
        out: dict[tuple[date, str], tuple[int, int]] = {}
        for (src, dt, file), n in self.rows.items():
            if src == source:
                loaded, quarantined = out.get((dt, file), (0, 0))
                out[(dt, file)] = (loaded + n, quarantined)
        for (src, dt, file), n in self.quarantined.items():
            if src == source:
                loaded, quarantined = out.get((dt, file), (0, 0))
                out[(dt, file)] = (loaded, quarantined + n)
        return out


def ensure_requests_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists raw._forget_requests ({REQUESTS_DDL})")


def has_requests(con: duckdb.DuckDBPyConnection) -> bool:
    # a catalog lookup, not a failing query: inside the loader's transaction an error would abort it
    exists = con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                         "and table_name = '_forget_requests'").fetchall()[0][0]
    return bool(exists) and con.execute("select count(*) from raw._forget_requests").fetchall()[0][0] > 0


def _prepare(con: duckdb.DuckDBPyConnection, salt: str) -> None:
    set_pii_pads(con, salt)  # phones hashed as dbt hashes them
    con.execute("set variable siyu_forget_salt = ?", [salt + KEY_SEPARATOR])
    con.execute("create or replace temp table forget_keys as select key from raw._forget_requests")


def _where_days(days: list[date] | None, column: str = "_dt") -> str:
    return f" and {column} in (select unnest(getvariable('siyu_forget_days')))" if days is not None else ""


def suppress(con: duckdb.DuckDBPyConnection, salt: str, sources: tuple[str, ...],
             days: list[date] | None = None) -> Suppressed:
    """Remove (or rewrite) every raw record of a forgotten person in `sources`, limited to the
    partition `days` when given. The caller owns the transaction."""
    result = Suppressed()
    if not has_requests(con):
        return result
    _prepare(con, salt)
    if days is not None:
        con.execute("set variable siyu_forget_days = ?::date[]", [days])
    for source in sources:
        if source in RECORD_IDENTIFIERS:
            _remove_records(con, source, days, result)
        if source == "wecom_groups":
            _rewrite_group_snapshots(con, days, result)
        if source == "wecom_messages":
            _rewrite_message_recipients(con, days, result)
        if source == "tracking":
            _rewrite_tracking_referrers(con, days, result)
        _remove_quarantined(con, source, days, result)
    con.execute("drop table if exists forget_keys")
    return result


def _remove_records(con: duckdb.DuckDBPyConnection, source: str, days: list[date] | None, result: Suppressed) -> None:
    key = RECORD_KEY[source]
    con.execute(f"""
        create or replace temp table doomed as
        select distinct record_key from (
            select {key} as record_key, unnest({RECORD_IDENTIFIERS[source]}) as identifier
            from raw.{source} where true {_where_days(days)}
        )
        where identifier is not null and {_key_sql('identifier')} in (select key from forget_keys)""")
    counts = con.execute(f"""
        select _dt, _file, count(*) from raw.{source}
        where {key} in (select record_key from doomed) {_where_days(days)} group by all""").fetchall()
    if counts:
        con.execute(f"delete from raw.{source} where {key} in (select record_key from doomed) {_where_days(days)}")
        for dt, file, n in counts:
            result.rows[(source, dt, file)] = n
    con.execute("drop table doomed")


def _matching_pairs(con: duckdb.DuckDBPyConnection, candidates_sql: str) -> set[tuple[str, str]]:
    """The distinct (value, kind) rows of `candidates_sql` (columns `v`, `kind`) that are forgotten
    identifiers: set-based (a join on the keys), so the small result can drive list lambdas after."""
    rows = con.execute(f"""
        with candidates as (select distinct v, kind from ({candidates_sql}) where v is not null and v <> '')
        select v, kind from candidates
        where {_key_sql("kind || ':' || v")} in (select key from forget_keys)""").fetchall()
    return {(v, kind) for v, kind in rows}


def _matching_values(con: duckdb.DuckDBPyConnection, candidates_sql: str, kinds: tuple[str, ...]) -> list[str]:
    """The distinct values of `candidates_sql` (one column `v`) that are forgotten identifiers of any of `kinds`."""
    kind_rows = ", ".join(f"('{kind}')" for kind in kinds)
    pairs = _matching_pairs(con, f"select v, k.kind from ({candidates_sql}), (values {kind_rows}) as k(kind)")
    return sorted({v for v, _ in pairs})


def _set_list(con: duckdb.DuckDBPyConnection, name: str, values: list[str]) -> None:
    con.execute(f"set variable {name} = ?::varchar[]", [values])


def _rewrite_group_snapshots(con: duckdb.DuckDBPyConnection, days: list[date] | None, result: Suppressed) -> None:
    """Drop the person's entries from group snapshots, and `invitor` where it names them."""
    scope = f"from raw.wecom_groups where true {_where_days(days)}"
    # one scan of the snapshots: every entry's userid, its inviter's userid and its unionid
    pairs = _matching_pairs(con, f"""
        select unnest([{{'v': trim(e ->> '$.userid'), 'kind': 'external_userid'}},
                       {{'v': trim(e ->> '$.invitor.userid'), 'kind': 'external_userid'}},
                       {{'v': trim(e ->> '$.unionid'), 'kind': 'unionid'}}], recursive := true)
        from (select unnest(cast(json_extract(group_chat, '$.member_list[*]') as json[])) as e {scope})""")
    userids = [v for v, kind in pairs if kind == "external_userid"]
    unionids = [v for v, kind in pairs if kind == "unionid"]
    if not userids and not unionids:
        return
    _set_list(con, "siyu_forget_userids", sorted(set(userids)))
    _set_list(con, "siyu_forget_unionids", sorted(set(unionids)))
    theirs = ("(coalesce(list_contains(getvariable('siyu_forget_userids'), trim(e ->> '$.userid')), false) or "
              "coalesce(list_contains(getvariable('siyu_forget_unionids'), trim(e ->> '$.unionid')), false))")
    invited_by_them = "coalesce(list_contains(getvariable('siyu_forget_userids'), trim(e ->> '$.invitor.userid')), false)"
    con.execute(f"""
        create or replace temp table rewritten as
        select row_id, json_merge_patch(group_chat, json_object('member_list', to_json(list_transform(
                   list_filter(entries, lambda e: not {theirs}),
                   lambda e: case when {invited_by_them} then json_merge_patch(e, '{{"invitor": null}}') else e end))))
                   as group_chat
        from (select rowid as row_id, group_chat, cast(json_extract(group_chat, '$.member_list[*]') as json[]) as entries
              {scope})
        where list_bool_or(list_transform(entries, lambda e: {theirs} or {invited_by_them}))""")
    _apply_rewrite(con, "wecom_groups", ("group_chat",), result)


def _apply_rewrite(con: duckdb.DuckDBPyConnection, source: str, columns: tuple[str, ...], result: Suppressed) -> None:
    n = con.execute("select count(*) from rewritten").fetchall()[0][0]
    if n:
        assignments = ", ".join(f"{c} = rewritten.{c}" for c in columns)
        con.execute(f"update raw.{source} set {assignments} from rewritten where raw.{source}.rowid = rewritten.row_id")
        result.rewritten[source] = result.rewritten.get(source, 0) + n
    con.execute("drop table rewritten")


def _rewrite_message_recipients(con: duckdb.DuckDBPyConnection, days: list[date] | None, result: Suppressed) -> None:
    """Take the person off the recipient list of group messages others sent."""
    scope = f"from raw.wecom_messages where tolist is not null {_where_days(days)}"
    userids = _matching_values(con, f"select unnest(json_extract_string(tolist, '$[*]')) as v {scope}", ("external_userid",))
    if not userids:
        return
    _set_list(con, "siyu_forget_userids", sorted(set(userids)))
    theirs = "list_contains(getvariable('siyu_forget_userids'), t)"
    # the record's whole JSON (column `message`) holds the list too
    con.execute(f"""
        create or replace temp table rewritten as
        select row_id, kept as tolist, json_merge_patch(message, json_object('tolist', kept)) as message
        from (select row_id, message, to_json(list_filter(recipients, lambda t: not {theirs})) as kept, recipients
              from (select rowid as row_id, message, cast(json_extract_string(tolist, '$[*]') as varchar[]) as recipients
                    {scope}))
        where list_bool_or(list_transform(recipients, lambda t: {theirs}))""")
    _apply_rewrite(con, "wecom_messages", ("tolist", "message"), result)


def _rewrite_tracking_referrers(con: duckdb.DuckDBPyConnection, days: list[date] | None, result: Suppressed) -> None:
    """Remove `inviter_id` / `share_from` from others' events when they name the person."""
    inviter, share_from = (_strip(f"properties ->> '$.{prop}'") for prop in ("inviter_id", "share_from"))
    values = _matching_values(con, f"select unnest([{inviter}, {share_from}]) as v from raw.tracking where true "
                              f"{_where_days(days)}", TOKEN_KINDS)  # one scan for both properties
    if not values:
        return
    _set_list(con, "siyu_forget_values", values)
    names_them = {prop: f"coalesce(list_contains(getvariable('siyu_forget_values'), {expr}), false)"
                  for prop, expr in (("inviter_id", inviter), ("share_from", share_from))}
    rewritten = "properties"
    for prop, condition in names_them.items():  # a null in a merge patch removes the key
        rewritten = f"""json_merge_patch({rewritten}, case when {condition} then '{{"{prop}": null}}' else '{{}}' end)"""
    condition = f"({' or '.join(names_them.values())}) {_where_days(days)}"
    n = con.execute(f"select count(*) from raw.tracking where {condition}").fetchall()[0][0]
    con.execute(f"update raw.tracking set properties = {rewritten} where {condition}")
    if n:
        result.rewritten["tracking"] = result.rewritten.get("tracking", 0) + n


def _remove_quarantined(con: duckdb.DuckDBPyConnection, source: str, days: list[date] | None,
                        result: Suppressed) -> None:
    """Quarantined lines are text, perhaps not even JSON: a line is the person's when one of its
    tokens is a forgotten identifier (any kind), or one of its phone-like digit runs is their phone."""
    kind_rows = ", ".join(f"('{kind}')" for kind in TOKEN_KINDS)
    rows = con.execute(rf"""
        with lines as (
            select rowid as row_id, _dt, file, raw_text from raw.quarantine
            where source = ? and raw_text is not null {_where_days(days)}
        ),
        tokens as (
            select row_id, unnest(regexp_extract_all(raw_text, '[A-Za-z0-9_.@\-]{{4,}}')) as token from lines
        ),
        phones as (
            select row_id, unnest(regexp_extract_all(raw_text, '\+?[0-9][0-9 \-]{{9,16}}[0-9]')) as phone from lines
        ),
        candidates as (
            select row_id, k.kind || ':' || token as identifier from tokens, (values {kind_rows}) as k(kind)
            union all
            select row_id, {_phone('phone')} as identifier from phones
        ),
        theirs as (
            select distinct row_id from candidates
            where identifier is not null and {_key_sql('identifier')} in (select key from forget_keys)
        )
        select lines.row_id, lines._dt, lines.file from lines inner join theirs using (row_id)""", [source]).fetchall()
    if not rows:
        return
    con.execute("delete from raw.quarantine where rowid in (select unnest(?::bigint[]))", [[r[0] for r in rows]])
    for _, dt, file in rows:
        result.quarantined[(source, dt, file)] = result.quarantined.get((source, dt, file), 0) + 1
