-- Fission (裂变) per customer group: how many joins were member invites, how many members
-- invited, the K-factor and whether invitees bought. Grain: group (every group in dim_group).
-- K-factor here = distinct invitees ÷ distinct inviting members (invitees per inviter, 人均邀请);
-- invite_rate = inviting members ÷ members who ever joined, so invite_rate × k_factor is the
-- classic viral coefficient (new members per member).
with groups as (
    select group_id, owner_userid from {{ ref('int_group_spans') }}
),

referrals as (
    select * from {{ ref('referrals') }}
),

joined as (
    select group_id, count(distinct member_id) as members_joined
    from {{ ref('int_group_joins') }}
    where member_id is not null
    group by group_id
),

fission as (
    select
        group_id,
        count(*) as invites,
        count(distinct inviter_member_id) as inviters,
        count(distinct invitee_member_id) as invitees,
        count(distinct case when invitee_bought_after_invite then invitee_member_id end) as invitees_who_bought
    from referrals
    group by group_id
)

select
    groups.group_id,
    groups.owner_userid,
    coalesce(joined.members_joined, 0) as members_joined,
    coalesce(fission.invites, 0) as invites,
    coalesce(fission.inviters, 0) as inviters,
    coalesce(fission.invitees, 0) as invitees,
    case when joined.members_joined > 0
        then cast(coalesce(fission.inviters, 0) as double) / joined.members_joined end as invite_rate,
    case when fission.inviters > 0 then cast(fission.invitees as double) / fission.inviters end as k_factor,
    coalesce(fission.invitees_who_bought, 0) as invitees_who_bought,
    case when fission.invitees > 0
        then cast(fission.invitees_who_bought as double) / fission.invitees end as invitee_buyer_share
from groups
left join joined on groups.group_id = joined.group_id
left join fission on groups.group_id = fission.group_id
