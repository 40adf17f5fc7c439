-- Question: Whom should staff contact one-to-one? (1) members formerly active in a group and
--           silent there now; (2) members whose funnel stopped at lead (a booked measurement,
--           a consultation, a claimed coupon …) without a deal.
-- 运营术语: 一对一关怀 / 私聊跟进名单 (沉默的老活跃成员 + 卡在线索阶段未成交的会员)
--
-- Sources: marts.group_member_activity (formerly_active_now_silent: active in the group in
-- D−59 … D−30, nothing in D−29 … D, D = latest business date) and marts.funnel_dropoffs
-- (stage_reached = 'lead'). is_window_closed = false means the member can still convert
-- inside the funnel window — the most urgent follow-ups.
-- One row per member × reason (× group for the group reason); contact_staff is the group
-- owner (群主) or the staff member who first added the member on WeCom (null if none).
with silent_in_group as (
    select
        member_id,
        'formerly_active_now_silent' as reason,
        group_id,
        owner_userid                 as contact_staff,
        last_active_date,
        is_current_member,
        null::boolean                as is_window_closed
    from marts.group_member_activity
    where formerly_active_now_silent
),

stuck_at_lead as (
    select
        member_id,
        'lead_without_deal'                                                   as reason,
        null::varchar                                                         as group_id,
        staff_owner                                                           as contact_staff,
        timezone('Asia/Shanghai', timezone('UTC', reached_at))::date          as last_active_date,
        null::boolean                                                         as is_current_member,
        is_window_closed
    from marts.funnel_dropoffs
    where stage_reached = 'lead'
)

select
    care.member_id,
    care.reason,
    care.group_id,
    care.contact_staff,
    care.last_active_date,
    care.is_current_member,
    care.is_window_closed,
    m.member_layer,
    m.order_count,
    m.net_gmv
from (select * from silent_in_group
union all
select * from stuck_at_lead) as care
left join marts.dim_member as m using (member_id)
order by care.reason asc, care.is_window_closed asc nulls first, m.net_gmv desc, care.last_active_date desc, care.member_id asc, care.group_id asc
