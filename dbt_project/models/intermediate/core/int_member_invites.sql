-- Invites (裂变): a group join that names a member's external_userid as `invitor`.
-- One row per inviter, invitee and join (a rejoin invited again is another row).
select distinct
    inviters.member_id as inviter_member_id,
    invitees.member_id as invitee_member_id,
    joins.group_id,
    joins.userid as invitee_userid,
    joins.invitor_userid as inviter_userid,
    joins.joined_at as invited_at,
    {{ business_date('joins.joined_at') }} as business_date
from {{ ref('stg_wecom__group_members') }} as joins
inner join {{ ref('int_identity_map') }} as inviters
    on inviters.identifier = 'external_userid:' || joins.invitor_userid
inner join {{ ref('int_identity_map') }} as invitees
    on invitees.identifier = 'external_userid:' || joins.userid
where joins.member_type = 'external'
    and joins.invitor_userid is not null
    and inviters.member_id <> invitees.member_id
