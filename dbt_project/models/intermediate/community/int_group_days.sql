-- Daily activity and lifecycle stage (生命周期) of every group. Grain: group × business date,
-- dense from the creation date (not before the first date of the data) to the dissolution date
-- or the latest business date, so the 7/14/30-day lifecycle windows are plain row frames and
-- see messages sent before the group's first snapshot. group_daily shows the rows from the
-- first snapshot on.
with spans as (
    select * from {{ ref('int_group_spans') }}
),

spine as (
    select spans.group_id, calendar.business_date
    from spans
    inner join {{ ref('int_calendar') }} as calendar
        on calendar.business_date between spans.spine_start_date and spans.last_row_date
),

snapshots as (
    select * from {{ ref('int_group_snapshots') }}
),

snapshot_days as (
    select distinct snapshot_date from snapshots
),

-- members_end: the day's snapshot, 0 on a snapshot day without the group (dissolved), else
-- carried forward from the last snapshot day
members_on_snapshot_days as (
    select
        spine.group_id,
        spine.business_date,
        coalesce(snapshots.external_members, 0) as members_end
    from spine
    inner join snapshot_days on spine.business_date = snapshot_days.snapshot_date
    left join snapshots
        on spine.group_id = snapshots.group_id and spine.business_date = snapshots.snapshot_date
),

messages as (
    select
        group_id,
        business_date,
        count(case when sender_kind = 'member' then 1 end) as member_messages,
        count(distinct case when sender_kind = 'member' then coalesce(member_id, 'external_userid:' || sender_id) end) as member_speakers,
        count(case when sender_kind = 'staff' then 1 end) as staff_messages,
        count(case when is_card then 1 end) as cards_posted
    from {{ ref('int_group_messages_enriched') }}
    group by group_id, business_date
),

joins as (
    select
        group_id,
        business_date,
        count(*) as joins,
        count(case when join_scene = 1 then 1 end) as joins_invited,
        count(case when join_scene = 2 then 1 end) as joins_link,
        count(case when join_scene = 3 then 1 end) as joins_qr
    from {{ ref('int_group_joins') }}
    group by group_id, business_date
),

leaves as (
    select group_id, left_date as business_date, count(*) as leaves
    from {{ ref('int_group_leaves') }}
    group by group_id, left_date
),

clicks as (
    select group_id, business_date, count(distinct member_id) as link_clickers
    from {{ ref('fct_touchpoint_events') }}
    where event in ('link_click', 'miniprogram_visit') and group_id is not null
    group by group_id, business_date
),

orders as (
    select group_id, paid_date as business_date, count(*) as orders, sum(net_gmv) as net_gmv
    from {{ ref('fct_orders') }}
    where is_paid and group_id is not null
    group by group_id, paid_date
),

daily as (
    select
        spine.group_id,
        spine.business_date,
        members_on_snapshot_days.business_date is not null as has_snapshot,
        -- carry the last snapshot forward over days without one
        {{ last_value_ignore_nulls('members_on_snapshot_days.members_end') }} over (
            partition by spine.group_id order by spine.business_date
            rows between unbounded preceding and current row) as members_end,
        coalesce(joins.joins, 0) as joins,
        coalesce(joins.joins_invited, 0) as joins_invited,
        coalesce(joins.joins_link, 0) as joins_link,
        coalesce(joins.joins_qr, 0) as joins_qr,
        coalesce(leaves.leaves, 0) as leaves,
        coalesce(messages.member_messages, 0) as member_messages,
        coalesce(messages.member_speakers, 0) as member_speakers,
        coalesce(messages.staff_messages, 0) as staff_messages,
        coalesce(messages.cards_posted, 0) as cards_posted,
        coalesce(clicks.link_clickers, 0) as link_clickers,
        coalesce(orders.orders, 0) as orders,
        cast(coalesce(orders.net_gmv, 0) as decimal(18, 2)) as net_gmv
    from spine
    left join members_on_snapshot_days
        on spine.group_id = members_on_snapshot_days.group_id
        and spine.business_date = members_on_snapshot_days.business_date
    left join messages on spine.group_id = messages.group_id and spine.business_date = messages.business_date
    left join joins on spine.group_id = joins.group_id and spine.business_date = joins.business_date
    left join leaves on spine.group_id = leaves.group_id and spine.business_date = leaves.business_date
    left join clicks on spine.group_id = clicks.group_id and spine.business_date = clicks.business_date
    left join orders on spine.group_id = orders.group_id and spine.business_date = orders.business_date
),

windows as (
    select
        daily.*,
        {{ dbt.datediff('spans.created_date', 'daily.business_date', 'day') }} as age_days,
        spans.dissolved_date,
        spans.first_row_date,
        -- the spine is dense (one row per day), so row frames are day windows
        cast(sum(daily.member_messages) over (partition by daily.group_id order by daily.business_date
            rows between 6 preceding and current row) as bigint) as member_messages_7d,
        cast(coalesce(sum(daily.member_messages) over (partition by daily.group_id order by daily.business_date
            rows between 13 preceding and 7 preceding), 0) as bigint) as member_messages_prior_7d,
        cast(sum(daily.member_messages) over (partition by daily.group_id order by daily.business_date
            rows between 29 preceding and current row) as bigint) as member_messages_30d
    from daily
    inner join spans on daily.group_id = spans.group_id
)

select
    windows.*,
    case
        when windows.dissolved_date <= windows.business_date then 'dead'
        when windows.age_days >= 30 and windows.member_messages_30d = 0 then 'dead'
        when windows.age_days < 7 then 'launch'
        when windows.member_messages_7d = 0 then 'silent'
        when windows.member_messages_7d < 0.5 * windows.member_messages_prior_7d then 'declining'
        else 'active'
    end as lifecycle_stage
from windows
