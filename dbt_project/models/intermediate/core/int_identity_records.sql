-- Every record that carries identifiers of one person, as (record, identifier) rows; tracked
-- events with the same identifiers are one record.
-- An identifier is written 'kind:value' (contracts §4): unionid, openid (value appid:openid),
-- external_userid, phone (value = HMAC hash, never the phone), distinct_id.
-- Messages link nothing (sender and recipients are different people); staff never appear.
with tracking as (
    -- Events that carry the same identifiers are one record of the graph: most of a brand's
    -- events repeat a few identifier sets (2.6 M events, 225 k sets at the benchmark's M scale).
    -- (the record id is the md5 of the identifiers, computed in staging: grouping by both is grouping by either)
    select
        record_id,
        min(event_at) as seen_at,
        max(event_at) as last_seen_at,
        count(*) as source_records,
        identifiers
    from (
        select identity_record_id as record_id, event_at, {{ tracking_identifiers() }} as identifiers
        from {{ ref('stg_tracking__events') }}
    ) as events
    group by record_id, identifiers
),

contacts as (
    select
        'contact:' || record_id as record_id,
        coalesce(first_added_at, {{ business_midnight_utc('landed_date') }}) as seen_at,
        coalesce(first_added_at, {{ business_midnight_utc('landed_date') }}) as last_seen_at,
        1 as source_records,
        {{ array_cat(
            array_of("'external_userid:' || external_userid", "'unionid:' || unionid"),
            array_map('remark_mobile_hashes', 'h', "'phone:' || h")) }} as identifiers
    from {{ ref('stg_wecom__contacts') }}
),

group_members as (
    select
        'group_member:' || group_id || ':' || userid || ':' || coalesce(unionid, '') as record_id,
        min(joined_at) as seen_at,
        min(joined_at) as last_seen_at,
        1 as source_records,
        {{ array_of("'external_userid:' || userid", "'unionid:' || unionid") }} as identifiers
    from {{ ref('stg_wecom__group_members') }}
    where member_type = 'external'
    group by group_id, userid, unionid
),

followers as (
    select
        'follower:' || record_id as record_id,
        subscribed_at as seen_at,
        subscribed_at as last_seen_at,
        1 as source_records,
        {{ array_of("'openid:' || appid || ':' || openid", "'unionid:' || unionid") }} as identifiers
    from {{ ref('stg_oa__followers') }}
),

orders as (
    select
        'order:' || order_no as record_id,
        created_at as seen_at,
        created_at as last_seen_at,
        1 as source_records,
        {{ array_of(
            "'phone:' || buyer_phone_hash",
            "'openid:' || buyer_appid || ':' || buyer_openid",
            "'unionid:' || buyer_unionid") }} as identifiers
    from {{ ref('stg_orders__orders') }}
),

all_records as (
    select record_id, seen_at, last_seen_at, source_records, identifiers from tracking
    union all
    select record_id, seen_at, last_seen_at, source_records, identifiers from contacts
    union all
    select record_id, seen_at, last_seen_at, source_records, identifiers from group_members
    union all
    select record_id, seen_at, last_seen_at, source_records, identifiers from followers
    union all
    select record_id, seen_at, last_seen_at, source_records, identifiers from orders
),

exploded as (
    select record_id, seen_at, last_seen_at, source_records, {{ unnest_array('identifiers') }} as identifier
    from all_records
)

select distinct
    record_id,
    seen_at,
    last_seen_at,
    source_records,
    identifier,
    split_part(identifier, ':', 1) as identifier_kind
from exploded
where identifier is not null
