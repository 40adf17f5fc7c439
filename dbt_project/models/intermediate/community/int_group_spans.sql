-- One row per customer group (社群) ever seen in a snapshot: owner, creation, first and last
-- snapshot, dissolution and the business dates its group_daily rows run over.
-- Grain: group. Dissolution (contracts §3/§5): the first non-empty snapshot day after the group's
-- last appearance; dissolved_at is 00:00 business time of that day, as UTC.
with snapshots as (
    select * from {{ ref('int_group_snapshots') }}
),

snapshot_days as (
    select distinct snapshot_date from snapshots
),

calendar as (
    select min(business_date) as first_business_date, max(latest_business_date) as latest_business_date
    from {{ ref('int_calendar') }}
),

groups as (
    select
        group_id,
        -- owner and create_time as of the group's latest snapshot that has them (NULLs skipped)
        {{ arg_max_not_null('owner_userid', 'snapshot_date') }} as owner_userid,
        {{ arg_max_not_null('created_at', 'snapshot_date') }} as created_at,
        {{ arg_max_not_null('created_date', 'snapshot_date') }} as created_date,
        min(snapshot_date) as first_snapshot_date,
        max(snapshot_date) as last_snapshot_date
    from snapshots
    group by group_id
),

dissolutions as (
    select groups.group_id, min(snapshot_days.snapshot_date) as dissolved_date
    from groups
    inner join snapshot_days on groups.last_snapshot_date < snapshot_days.snapshot_date
    group by groups.group_id
)

select
    groups.group_id,
    groups.owner_userid,
    groups.created_at,
    groups.created_date,
    groups.first_snapshot_date,
    groups.last_snapshot_date,
    dissolutions.dissolved_date,
    {{ business_midnight_utc('dissolutions.dissolved_date') }} as dissolved_at,
    -- group_daily rows: from creation (or the first snapshot, if later) to dissolution or D
    greatest(groups.created_date, groups.first_snapshot_date) as first_row_date,
    coalesce(dissolutions.dissolved_date, calendar.latest_business_date) as last_row_date,
    -- the activity spine starts at creation (not before the data) so lifecycle windows see
    -- messages sent before the first snapshot
    greatest(groups.created_date, calendar.first_business_date) as spine_start_date,
    calendar.latest_business_date
from groups
cross join calendar
left join dissolutions on groups.group_id = dissolutions.group_id
