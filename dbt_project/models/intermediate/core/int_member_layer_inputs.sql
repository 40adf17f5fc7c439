-- Everything a member's layers are computed from, per member, and its digest: the day first
-- seen, the daily activity and the invites the member made. int_member_layers_daily recomputes
-- a member only when this digest changed (macros/incremental_members.sql).
with members as (
    select member_id, {{ business_date('first_seen_at') }} as first_seen_date
    from {{ ref('int_member_first_seen') }}
),

activity as (
    select
        member_id,
        count(*) as activity_days,
        {{ row_hash_sum('business_date', 'messages', 'active_signals') }} as activity_digest
    from {{ ref('int_member_daily_signals') }}
    group by member_id
),

invites as (
    select
        inviter_member_id as member_id,
        count(*) as invites,
        {{ row_hash_sum('invitee_member_id', 'business_date') }} as invites_digest
    from {{ ref('int_member_invites') }}
    group by inviter_member_id
),

joined as (
    select
        members.member_id,
        members.first_seen_date,
        activity.activity_days,
        activity.activity_digest,
        invites.invites,
        invites.invites_digest
    from members
    left join activity on members.member_id = activity.member_id
    left join invites on members.member_id = invites.member_id
)

select
    member_id,
    first_seen_date,
    {{ row_hash('first_seen_date', 'activity_days', 'activity_digest', 'invites', 'invites_digest') }} as input_digest
from joined
