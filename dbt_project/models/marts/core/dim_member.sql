-- One row per stitched member (contracts §4, §5): identity, first touch, WeCom ownership,
-- tags, funnel stage, layer as of the latest business date, orders, value and fission.
with identifiers as (
    select
        member_id,
        count(*) as identifier_count,
        bool_or(identifier_kind = 'unionid') as has_unionid,
        bool_or(identifier_kind = 'openid') as has_openid,
        bool_or(identifier_kind = 'external_userid') as has_external_userid,
        bool_or(identifier_kind = 'phone') as has_phone,
        bool_or(identifier_kind = 'distinct_id') as has_distinct_id,
        {{ sorted_distinct_agg('identifier_kind') }} as identifier_kinds
    from {{ ref('int_identity_map') }}
    group by member_id
),

ranked_touches as (
    select member_id, channel, campaign_id, touchpoint_id, event,
        row_number() over (partition by member_id order by event_at nulls last, event_id) as touch_rank
    from {{ ref('fct_touchpoint_events') }}
),

first_touch as (
    select member_id, channel as first_channel, campaign_id as first_campaign_id,
        touchpoint_id as first_touchpoint_id, event as first_event
    from ranked_touches
    where touch_rank = 1
),

oa_tags as (
    select records.member_id, {{ sorted_distinct_flatten_agg('followers.tag_ids') }} as oa_tag_ids
    from {{ ref('stg_oa__followers') }} as followers
    inner join {{ ref('int_identity_record_members') }} as records
        on records.record_id = 'follower:' || followers.record_id
    group by records.member_id
),

orders as (
    select
        member_id,
        count(*) as order_count,
        sum(net_gmv) as net_gmv,
        min(paid_at) as first_order_at,
        max(paid_at) as last_order_at
    from {{ ref('fct_orders') }}
    where is_paid and member_id is not null
    group by member_id
),

groups_joined as (
    select member_id, count(distinct group_id) as groups_joined
    from {{ ref('fct_touchpoint_events') }}
    where event = 'group_join'
    group by member_id
),

invites as (
    select
        invites.inviter_member_id as member_id,
        count(distinct invites.invitee_member_id) as members_invited,
        count(distinct case when orders.member_id is not null then invites.invitee_member_id end) as invitees_who_bought
    from {{ ref('int_member_invites') }} as invites
    left join orders on invites.invitee_member_id = orders.member_id
    group by invites.inviter_member_id
),

latest_layer as (
    select layers.member_id, layers.member_layer
    from {{ ref('int_member_layers_daily') }} as layers
    inner join (select max(business_date) as d from {{ ref('int_calendar') }}) as latest
        on layers.business_date = latest.d
),

as_of as (
    select max(latest_business_date) as latest_business_date from {{ ref('int_calendar') }}
),

rfm as (
    select
        orders.member_id,
        {{ dbt.datediff(business_date('orders.last_order_at'), 'as_of.latest_business_date', 'day') }} as recency_days,
        -- bigint casts: ntile is BIGINT on DuckDB but INT on Spark
        cast(ntile(5) over (order by orders.last_order_at nulls last, orders.member_id) as bigint) as recency_score,
        cast(ntile(5) over (order by orders.order_count nulls last, orders.member_id) as bigint) as frequency_score,
        cast(ntile(5) over (order by orders.net_gmv nulls last, orders.member_id) as bigint) as monetary_score
    from orders
    cross join as_of
)

select
    first_seen.member_id,
    first_seen.first_seen_at,
    first_touch.first_channel,
    first_touch.first_campaign_id,
    first_touch.first_touchpoint_id,
    wecom.first_contact_state,
    wecom.first_add_way,
    coalesce(wecom.staff_owners, {{ empty_string_array() }}) as staff_owners,
    {{ sorted_distinct(array_cat('coalesce(wecom.wecom_tags, ' ~ empty_string_array() ~ ')',
        array_map('coalesce(oa_tags.oa_tag_ids, ' ~ empty_string_array() ~ ')', 't', "'oa_tag:' || t"))) }} as tags,  -- noqa: RF02
    identifiers.identifier_kinds,
    identifiers.identifier_count,
    identifiers.has_unionid,
    identifiers.has_openid,
    identifiers.has_external_userid,
    identifiers.has_phone,
    identifiers.has_distinct_id,
    coalesce(funnel.funnel_stage, 'none') as funnel_stage,
    coalesce(latest_layer.member_layer, 'ordinary') as member_layer,
    coalesce(orders.order_count, 0) as order_count,
    cast(coalesce(orders.net_gmv, 0) as decimal(18, 2)) as net_gmv,
    orders.first_order_at,
    orders.last_order_at,
    coalesce(orders.order_count, 0) >= 2 as is_repeat_buyer,
    rfm.recency_days,
    rfm.recency_score,
    rfm.frequency_score,
    rfm.monetary_score,
    coalesce(groups_joined.groups_joined, 0) as groups_joined,
    coalesce(invites.members_invited, 0) as members_invited,
    coalesce(invites.invitees_who_bought, 0) as invitees_who_bought
from {{ ref('int_member_first_seen') }} as first_seen
left join identifiers on first_seen.member_id = identifiers.member_id
left join first_touch on first_seen.member_id = first_touch.member_id
left join {{ ref('int_member_wecom_follows') }} as wecom on first_seen.member_id = wecom.member_id
left join oa_tags on first_seen.member_id = oa_tags.member_id
left join {{ ref('fct_member_funnel') }} as funnel on first_seen.member_id = funnel.member_id
left join latest_layer on first_seen.member_id = latest_layer.member_id
left join orders on first_seen.member_id = orders.member_id
left join rfm on first_seen.member_id = rfm.member_id
left join groups_joined on first_seen.member_id = groups_joined.member_id
left join invites on first_seen.member_id = invites.member_id
