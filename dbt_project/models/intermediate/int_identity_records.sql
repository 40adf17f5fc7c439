-- Every record that carries identifiers of one person, as (record, identifier) rows.
-- An identifier is written 'kind:value' (contracts §4): unionid, openid (value appid:openid),
-- external_userid, phone (value = HMAC hash, never the phone), distinct_id.
-- Messages link nothing (sender and recipients are different people); staff never appear.
with tracking as (
    select
        'tracking:' || event_id as record_id,
        event_at as seen_at,
        list_value(
            'distinct_id:' || distinct_id,
            'unionid:' || unionid,
            'openid:' || appid || ':' || openid,
            'external_userid:' || external_userid,
            'phone:' || phone_hash) as identifiers
    from {{ ref('stg_tracking__events') }}
),

contacts as (
    select
        'contact:' || record_id as record_id,
        coalesce(first_added_at, {{ business_midnight_utc('landed_date') }}) as seen_at,
        list_concat(
            list_value('external_userid:' || external_userid, 'unionid:' || unionid),
            list_transform(remark_mobile_hashes, lambda h: 'phone:' || h)) as identifiers
    from {{ ref('stg_wecom__contacts') }}
),

group_members as (
    select
        'group_member:' || group_id || ':' || userid || ':' || coalesce(unionid, '') as record_id,
        min(joined_at) as seen_at,
        list_value('external_userid:' || userid, 'unionid:' || unionid) as identifiers
    from {{ ref('stg_wecom__group_members') }}
    where member_type = 'external'
    group by group_id, userid, unionid
),

followers as (
    select
        'follower:' || record_id as record_id,
        subscribed_at as seen_at,
        list_value('openid:' || appid || ':' || openid, 'unionid:' || unionid) as identifiers
    from {{ ref('stg_oa__followers') }}
),

orders as (
    select
        'order:' || order_no as record_id,
        created_at as seen_at,
        list_value(
            'phone:' || buyer_phone_hash,
            'openid:' || buyer_appid || ':' || buyer_openid,
            'unionid:' || buyer_unionid) as identifiers
    from {{ ref('stg_orders__orders') }}
),

all_records as (
    select * from tracking
    union all select * from contacts
    union all select * from group_members
    union all select * from followers
    union all select * from orders
),

exploded as (
    select record_id, seen_at, unnest(identifiers) as identifier
    from all_records
)

select distinct
    record_id,
    seen_at,
    identifier,
    split_part(identifier, ':', 1) as identifier_kind
from exploded
where identifier is not null
