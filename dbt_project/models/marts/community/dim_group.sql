-- One row per customer group (社群) ever seen in a WeCom group snapshot. Grain: group.
-- Size, peak, totals and the lifecycle stage as of the latest business date D; a dissolved
-- group is `dead` with 0 members now.
with spans as (
    select * from {{ ref('int_group_spans') }}
),

days as (
    select * from {{ ref('group_daily') }}
),

totals as (
    select
        group_id,
        max(members_end) as peak_members,
        sum(joins) as total_joins,
        sum(leaves) as total_leaves,
        sum(member_messages) as total_member_messages,
        sum(orders) as total_orders,
        sum(net_gmv) as total_net_gmv
    from days
    group by group_id
),

ranked_days as (
    select group_id, business_date, members_end, lifecycle_stage,
        row_number() over (partition by group_id order by business_date desc) as day_rank
    from days
),

last_day as (
    select group_id, business_date, members_end, lifecycle_stage
    from ranked_days
    where day_rank = 1
),

last_member_message as (
    select group_id, max(sent_at) as last_member_message_at
    from {{ ref('int_group_messages_enriched') }}
    where sender_kind = 'member'
    group by group_id
)

select
    spans.group_id,
    spans.owner_userid,
    spans.created_at,
    spans.created_date,
    spans.first_snapshot_date,
    spans.last_snapshot_date,
    spans.dissolved_at,
    spans.dissolved_date,
    spans.dissolved_at is not null as is_dissolved,
    {{ dbt.datediff('spans.created_date', 'coalesce(spans.dissolved_date, spans.latest_business_date)', 'day') }} as age_days,
    case when spans.dissolved_date is not null then 0 else last_day.members_end end as members_now,
    totals.peak_members,
    cast(coalesce(totals.total_joins, 0) as bigint) as total_joins,
    cast(coalesce(totals.total_leaves, 0) as bigint) as total_leaves,
    cast(coalesce(totals.total_member_messages, 0) as bigint) as total_member_messages,
    last_member_message.last_member_message_at,
    cast(coalesce(totals.total_orders, 0) as bigint) as total_orders,
    cast(coalesce(totals.total_net_gmv, 0) as decimal(18, 2)) as total_net_gmv,
    case when spans.dissolved_date is not null then 'dead' else last_day.lifecycle_stage end as lifecycle_stage
from spans
left join totals on spans.group_id = totals.group_id
left join last_day on spans.group_id = last_day.group_id
left join last_member_message on spans.group_id = last_member_message.group_id
