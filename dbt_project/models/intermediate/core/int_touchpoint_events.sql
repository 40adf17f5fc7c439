-- One stream of touchpoint events: tracked events plus the events derived from other
-- sources (contracts §5), each with its funnel stage from seeds/funnel_stages.csv and its
-- member (null when no identifying identifier resolves: counted in identity_unresolved).
with tracked as (
    select
        event_id, event, event_at, channel, touchpoint_id, campaign_id, staff_id, group_id,
        'tracking' as source_system,
        identity_record_id as record_id,
        cast(null as string) as identifier
    from {{ ref('stg_tracking__events') }}
),

follow_records as (
    select
        'oa_follow:' || followers.appid || ':' || followers.openid || ':' || {{ epoch_seconds('followers.subscribed_at') }} as event_id,
        'oa_follow' as event,
        followers.subscribed_at as event_at,
        coalesce(apps.channel, 'oa_unknown') as channel,
        followers.qr_scene_str as touchpoint_id,
        cast(null as string) as campaign_id,
        cast(null as string) as staff_id,
        cast(null as string) as group_id,
        'oa_followers' as source_system,
        'follower:' || followers.record_id as record_id,
        cast(null as string) as identifier,
        followers.landed_date,
        followers.record_id as follower_record_id
    from {{ ref('stg_oa__followers') }} as followers
    left join {{ ref('wechat_apps') }} as apps on followers.appid = apps.appid
    where followers.is_follow
),

ranked_follows as (
    select
        follow_records.*,
        row_number() over (
            partition by follow_records.event_id
            order by follow_records.landed_date, follow_records.follower_record_id) as copy_rank
    from follow_records
),

follows as (
    -- one event per event_id: the earliest landed copy
    select
        event_id, event, event_at, channel, touchpoint_id, campaign_id, staff_id, group_id,
        source_system, record_id, identifier
    from ranked_follows
    where copy_rank = 1
),

contacts_added as (
    select
        'wecom_add_contact:' || external_userid || ':' || staff_userid as event_id,
        'wecom_add_contact' as event,
        added_at as event_at,
        'wecom_1v1' as channel,
        state as touchpoint_id,
        cast(null as string) as campaign_id,
        staff_userid as staff_id,
        cast(null as string) as group_id,
        'wecom_contacts' as source_system,
        cast(null as string) as record_id,
        'external_userid:' || external_userid as identifier
    from {{ ref('stg_wecom__contact_follows') }}
),

group_joins as (
    select distinct
        'group_join:' || group_id || ':' || userid || ':' || {{ epoch_seconds('joined_at') }} as event_id,
        'group_join' as event,
        joined_at as event_at,
        'wecom_group' as channel,
        group_id as touchpoint_id,
        cast(null as string) as campaign_id,
        cast(null as string) as staff_id,
        group_id,
        'wecom_groups' as source_system,
        cast(null as string) as record_id,
        'external_userid:' || userid as identifier
    from {{ ref('stg_wecom__group_members') }}
    where member_type = 'external'
),

paid_orders as (
    select
        'order_paid:' || order_no as event_id,
        'order_paid' as event,
        paid_at as event_at,
        platform as channel,
        store_id as touchpoint_id,
        campaign_id,
        guide_userid as staff_id,
        group_id,
        'orders' as source_system,
        'order:' || order_no as record_id,
        cast(null as string) as identifier
    from {{ ref('stg_orders__orders') }}
    where is_paid
),

all_events as (
    select * from tracked
    union all
    select * from follows
    union all
    select * from contacts_added
    union all
    select * from group_joins
    union all
    select * from paid_orders
)

select
    all_events.event_id,
    coalesce(record_members.member_id, identifier_members.member_id) as member_id,
    all_events.event,
    stages.stage,
    all_events.channel,
    all_events.event_at,
    {{ business_date('all_events.event_at') }} as business_date,
    all_events.touchpoint_id,
    all_events.campaign_id,
    all_events.staff_id,
    all_events.group_id,
    all_events.source_system
from all_events
left join {{ ref('funnel_stages') }} as stages on all_events.event = stages.event
left join {{ ref('int_identity_record_members') }} as record_members
    on all_events.record_id = record_members.record_id
left join {{ ref('int_identity_map') }} as identifier_members
    on all_events.identifier = identifier_members.identifier
