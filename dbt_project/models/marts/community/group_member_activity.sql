-- Every member of every group with what they did there in the last 30 days up to the latest
-- business date D (D−29 … D) and the 30 days before (D−59 … D−30): the one-to-one care list
-- (一对一关怀) picks members active before and silent now. Grain: member × group — members who
-- ever joined the group or acted in it. Holds ids only, no names, phones or message text.
with calendar as (
    select max(latest_business_date) as latest_business_date from {{ ref('int_calendar') }}
),

spans as (
    select * from {{ ref('int_group_spans') }}
),

joins as (
    select * from {{ ref('int_group_joins') }} where member_id is not null
),

memberships as (
    select
        member_id,
        group_id,
        count(*) as joins,
        min(joined_at) as first_joined_at,
        max(joined_at) as last_joined_at
    from joins
    group by member_id, group_id
),

current_members as (
    select distinct map.member_id, entries.group_id
    from {{ ref('stg_wecom__group_members') }} as entries
    inner join spans
        on entries.group_id = spans.group_id
        and entries.snapshot_date = spans.last_snapshot_date
        and spans.dissolved_date is null
    inner join {{ ref('int_identity_map') }} as map
        on map.identifier = 'external_userid:' || entries.userid
    where entries.member_type = 'external'
),

activity as (
    select
        daily.member_id,
        daily.group_id,
        sum(case when daily.business_date > cast({{ dbt.dateadd('day', -30, 'calendar.latest_business_date') }} as date)
            then daily.messages else 0 end) as messages_30d,
        sum(case when daily.business_date > cast({{ dbt.dateadd('day', -30, 'calendar.latest_business_date') }} as date)
            then daily.link_clicks else 0 end) as link_clicks_30d,
        sum(case when daily.business_date > cast({{ dbt.dateadd('day', -30, 'calendar.latest_business_date') }} as date)
            then daily.invites else 0 end) as invites_30d,
        sum(case when daily.business_date > cast({{ dbt.dateadd('day', -30, 'calendar.latest_business_date') }} as date)
            then daily.orders else 0 end) as orders_30d,
        sum(case when daily.business_date > cast({{ dbt.dateadd('day', -30, 'calendar.latest_business_date') }} as date)
            then daily.net_gmv else 0 end) as net_gmv_30d,
        count(case when daily.business_date > cast({{ dbt.dateadd('day', -30, 'calendar.latest_business_date') }} as date)
            then 1 end) > 0 as is_active_30d,
        count(case when daily.business_date > cast({{ dbt.dateadd('day', -60, 'calendar.latest_business_date') }} as date)
            and daily.business_date <= cast({{ dbt.dateadd('day', -30, 'calendar.latest_business_date') }} as date)
            then 1 end) > 0 as is_active_prior_30d,
        max(daily.business_date) as last_active_date
    from {{ ref('int_group_member_activity_daily') }} as daily
    cross join calendar
    where daily.business_date <= calendar.latest_business_date
    group by daily.member_id, daily.group_id
),

pairs as (
    select member_id, group_id from memberships
    union
    select member_id, group_id from activity
),

bridges as (
    select
        joins.member_id,
        count(distinct joins.group_id) as groups_joined,
        count(distinct spans.owner_userid) as owners_joined
    from joins
    inner join spans on joins.group_id = spans.group_id
    group by joins.member_id
),

combined as (
    select
        pairs.group_id,
        pairs.member_id,
        spans.owner_userid,
        memberships.first_joined_at,
        memberships.last_joined_at,
        coalesce(memberships.joins, 0) as joins,
        current_members.member_id is not null as is_current_member,
        cast(coalesce(activity.messages_30d, 0) as bigint) as messages_30d,
        cast(coalesce(activity.link_clicks_30d, 0) as bigint) as link_clicks_30d,
        cast(coalesce(activity.invites_30d, 0) as bigint) as invites_30d,
        cast(coalesce(activity.orders_30d, 0) as bigint) as orders_30d,
        cast(coalesce(activity.net_gmv_30d, 0) as decimal(18, 2)) as net_gmv_30d,
        coalesce(activity.is_active_30d, false) as is_active_30d,
        coalesce(activity.is_active_prior_30d, false) as is_active_prior_30d,
        activity.last_active_date,
        coalesce(bridges.groups_joined, 0) as groups_joined,
        coalesce(bridges.owners_joined, 0) as owners_joined,
        calendar.latest_business_date as as_of_date
    from pairs
    cross join calendar
    left join spans on pairs.group_id = spans.group_id
    left join memberships on pairs.member_id = memberships.member_id and pairs.group_id = memberships.group_id
    left join current_members on pairs.member_id = current_members.member_id and pairs.group_id = current_members.group_id
    left join activity on pairs.member_id = activity.member_id and pairs.group_id = activity.group_id
    left join bridges on pairs.member_id = bridges.member_id
)

select
    combined.*,
    -- effective activity first (orders, clicks, invites), chat last; only members active in 30 days
    -- (bigint: rank is INT on Spark)
    case when combined.is_active_30d then cast(rank() over (
        partition by combined.group_id, combined.is_active_30d
        order by combined.orders_30d desc, combined.link_clicks_30d desc, combined.invites_30d desc, combined.messages_30d desc)
        as bigint) end as activity_rank,
    combined.owners_joined >= 2 as is_bridge,
    combined.is_active_prior_30d and not combined.is_active_30d as formerly_active_now_silent
from combined
