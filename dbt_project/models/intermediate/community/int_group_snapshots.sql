-- One row per group per snapshot day it appears in, with its external member count.
-- Grain: group × snapshot day. Snapshot days (days with a non-empty wecom_groups partition)
-- are the only days that say anything about membership (contracts §3).
with snapshots as (
    select group_id, snapshot_date, owner_userid, created_at, created_date
    from {{ ref('stg_wecom__groups') }}
),

external_members as (
    select group_id, snapshot_date, count(distinct userid) as external_members
    from {{ ref('stg_wecom__group_members') }}
    where member_type = 'external'
    group by group_id, snapshot_date
)

select
    snapshots.group_id,
    snapshots.snapshot_date,
    snapshots.owner_userid,
    snapshots.created_at,
    snapshots.created_date,
    coalesce(external_members.external_members, 0) as external_members
from snapshots
left join external_members
    on snapshots.group_id = external_members.group_id
    and snapshots.snapshot_date = external_members.snapshot_date
