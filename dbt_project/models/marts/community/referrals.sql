-- Who brought whom (裂变邀请): a group join that names a member's external_userid as `invitor`
-- (contracts §5 Invites). Grain: inviter × invitee × group × invite time — a rejoin invited again
-- is another row. Chains (A invites B invites C) are followed by joining invitee to inviter.
with invites as (
    select * from {{ ref('int_member_invites') }}
),

joins as (
    select group_id, userid, joined_at, join_scene_name from {{ ref('int_group_joins') }}
),

first_paid as (
    select member_id, min(paid_at) as first_paid_at
    from {{ ref('fct_orders') }}
    where is_paid and member_id is not null
    group by member_id
),

paid_after as (
    select invites.invitee_member_id, invites.group_id, invites.invited_at, min(orders.paid_at) as first_paid_after_invite_at
    from invites
    inner join {{ ref('fct_orders') }} as orders
        on invites.invitee_member_id = orders.member_id and orders.is_paid and invites.invited_at <= orders.paid_at
    group by invites.invitee_member_id, invites.group_id, invites.invited_at
)

select
    invites.inviter_member_id,
    invites.invitee_member_id,
    invites.group_id,
    spans.owner_userid as group_owner_userid,
    invites.invited_at,
    invites.business_date,
    joins.join_scene_name as join_scene,
    first_paid.first_paid_at as invitee_first_paid_at,
    paid_after.first_paid_after_invite_at as invitee_first_paid_after_invite_at,
    paid_after.first_paid_after_invite_at is not null as invitee_bought_after_invite
from invites
left join {{ ref('int_group_spans') }} as spans on invites.group_id = spans.group_id
left join joins
    on invites.group_id = joins.group_id and invites.invitee_userid = joins.userid and invites.invited_at = joins.joined_at
left join first_paid on invites.invitee_member_id = first_paid.member_id
left join paid_after
    on invites.invitee_member_id = paid_after.invitee_member_id
    and invites.group_id = paid_after.group_id
    and invites.invited_at = paid_after.invited_at
