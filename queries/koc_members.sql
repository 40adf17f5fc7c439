-- Question: Which members are our KOCs — members whose invitees buy? Members invited, how many
--           of them bought, and the member's own orders.
-- 运营术语: KOC (关键意见消费者) / 裂变达人 — 邀请人数、被邀请人成交数
--
-- Source: marts.dim_member (members_invited = distinct members this member invited into a
-- group via a WeCom group invite; invitees_who_bought = of those, members with a paid order).
-- A KOC here has at least one invitee who bought; ranked by invitees who bought, then invites.
select
    member_id,
    members_invited,
    invitees_who_bought,
    round(invitees_who_bought / members_invited, 4) as invitee_buyer_rate,
    order_count                                     as own_orders,
    net_gmv                                         as own_net_gmv,
    member_layer,
    groups_joined
from marts.dim_member
where invitees_who_bought > 0
order by invitees_who_bought desc, members_invited desc, own_net_gmv desc, member_id asc
