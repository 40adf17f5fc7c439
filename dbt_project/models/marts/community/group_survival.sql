-- Survival of customer groups (社群存活) by creation week. Grain: ISO creation week × day k.
-- A group is alive on day k of its life when it has a member message on or after creation
-- date + k; it is counted only once creation date + k is not after the latest business date
-- (contracts §5). A week with no counted group has no row for that k.
with groups as (
    select group_id, created_date, latest_business_date
    from {{ ref('int_group_spans') }}
),

last_member_message as (
    select group_id, max(business_date) as last_member_message_date
    from {{ ref('int_group_messages_enriched') }}
    where sender_kind = 'member'
    group by group_id
),

days_k as (
    select 1 as day_k
    union all
    select 7
    union all
    select 14
    union all
    select 30
    union all
    select 60
),

counted as (
    select
        cast({{ dbt.date_trunc('week', 'groups.created_date') }} as date) as created_week,
        days_k.day_k,
        groups.group_id,
        last_member_message.last_member_message_date
            >= cast({{ dbt.dateadd('day', 'days_k.day_k', 'groups.created_date') }} as date) as is_alive
    from groups
    cross join days_k
    left join last_member_message on groups.group_id = last_member_message.group_id
    where cast({{ dbt.dateadd('day', 'days_k.day_k', 'groups.created_date') }} as date) <= groups.latest_business_date
)

select
    created_week,
    day_k,
    count(*) as groups,
    count(case when is_alive then 1 end) as alive_groups,
    cast(count(case when is_alive then 1 end) as double) / count(*) as alive_share
from counted
group by created_week, day_k
