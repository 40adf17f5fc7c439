-- What each member did in each group on each business date: member messages, link / mini-program
-- clicks carrying the group's id, invites into the group and paid orders attributed to it.
-- Grain: member × group × business date (only days with some activity).
with messages as (
    select member_id, group_id, business_date, count(*) as messages
    from {{ ref('int_group_messages_enriched') }}
    where sender_kind = 'member' and member_id is not null
    group by member_id, group_id, business_date
),

clicks as (
    select member_id, group_id, business_date, count(*) as link_clicks
    from {{ ref('fct_touchpoint_events') }}
    where event in ('link_click', 'miniprogram_visit') and group_id is not null
    group by member_id, group_id, business_date
),

invites as (
    select inviter_member_id as member_id, group_id, business_date, count(distinct invitee_member_id) as invites
    from {{ ref('int_member_invites') }}
    group by inviter_member_id, group_id, business_date
),

orders as (
    select member_id, group_id, paid_date as business_date, count(*) as orders, sum(net_gmv) as net_gmv
    from {{ ref('fct_orders') }}
    where is_paid and member_id is not null and group_id is not null
    group by member_id, group_id, paid_date
),

keys as (
    select member_id, group_id, business_date from messages
    union
    select member_id, group_id, business_date from clicks
    union
    select member_id, group_id, business_date from invites
    union
    select member_id, group_id, business_date from orders
)

select
    keys.member_id,
    keys.group_id,
    keys.business_date,
    coalesce(messages.messages, 0) as messages,
    coalesce(clicks.link_clicks, 0) as link_clicks,
    coalesce(invites.invites, 0) as invites,
    coalesce(orders.orders, 0) as orders,
    cast(coalesce(orders.net_gmv, 0) as decimal(18, 2)) as net_gmv
from keys
left join messages using (member_id, group_id, business_date)
left join clicks using (member_id, group_id, business_date)
left join invites using (member_id, group_id, business_date)
left join orders using (member_id, group_id, business_date)
