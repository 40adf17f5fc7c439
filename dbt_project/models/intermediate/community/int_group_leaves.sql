-- One row per external member leaving a group (退群), from snapshot diffs (contracts §3): present in
-- the group's snapshot of day d−1 and absent from the snapshot of day d. Only when both days
-- have a snapshot partition — days without a snapshot infer nothing. On the day a group is
-- dissolved its remaining members are absent from the snapshot, so they count as leaves too.
-- Grain: group × external userid × leave date.
with entries as (
    select distinct group_id, snapshot_date, userid
    from {{ ref('stg_wecom__group_members') }}
    where member_type = 'external'
),

snapshot_days as (
    select distinct snapshot_date from {{ ref('int_group_snapshots') }}
),

candidates as (
    select
        previous.group_id,
        previous.userid,
        today.snapshot_date as left_date
    from entries as previous
    inner join snapshot_days as today
        on today.snapshot_date = cast({{ dbt.dateadd('day', 1, 'previous.snapshot_date') }} as date)
)

select
    candidates.group_id,
    candidates.userid,
    members.member_id,
    candidates.left_date
from candidates
left join entries as still_there
    on candidates.group_id = still_there.group_id
    and candidates.userid = still_there.userid
    and candidates.left_date = still_there.snapshot_date
left join {{ ref('int_identity_map') }} as members
    on members.identifier = 'external_userid:' || candidates.userid
where still_there.userid is null
