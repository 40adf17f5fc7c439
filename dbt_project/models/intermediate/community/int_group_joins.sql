-- One row per join of an external member to a group (入群), seen in any snapshot.
-- Grain: group × external userid × join_time — a rejoin after leaving has a new join_time and
-- is a new join (contracts §5, the same rule as the derived `group_join` event).
with entries as (
    select *
    from {{ ref('stg_wecom__group_members') }}
    where member_type = 'external' and joined_at is not null
),

joins as (
    select
        group_id,
        userid,
        joined_at,
        -- scene and inviter as of the latest snapshot that lists this join and has them (a NULL
        -- scene or inviter in a later snapshot does not erase the known one)
        {{ arg_max_not_null('join_scene', 'snapshot_date') }} as join_scene,
        {{ arg_max_not_null('invitor_userid', 'snapshot_date') }} as invitor_userid,
        min(snapshot_date) as first_seen_snapshot_date
    from entries
    group by group_id, userid, joined_at
)

select
    joins.group_id,
    joins.userid,
    members.member_id,
    joins.joined_at,
    {{ business_date('joins.joined_at') }} as business_date,
    joins.join_scene,
    case joins.join_scene when 1 then 'invited' when 2 then 'link' when 3 then 'qr' else 'unknown' end as join_scene_name,
    joins.invitor_userid,
    joins.first_seen_snapshot_date
from joins
left join {{ ref('int_identity_map') }} as members
    on members.identifier = 'external_userid:' || joins.userid
