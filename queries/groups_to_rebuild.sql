-- Question: Which customer groups should we dissolve and rebuild this week? Groups still
--           open whose lifecycle stage is dead, silent or declining, with their size and
--           their last member message.
-- 运营术语: 社群解散重建 / 死群、沉默群、衰退群清单 (群规模、最后一条成员发言)
--
-- Source: marts.dim_group (lifecycle_stage and members_now as of the latest business date D)
-- and marts.group_daily on D (member messages in the last 7 days d−6 … d and the 7 days
-- before). Staff and bot messages do not count. Already dissolved groups are left out.
-- Order: dead first, then silent, then declining; bigger groups first.
with latest as (
    select max(business_date) as d from marts.group_daily
)

select
    g.group_id,
    g.owner_userid,
    g.lifecycle_stage,
    g.members_now,
    g.age_days,
    g.last_member_message_at,                                         -- UTC
    date_diff('day', timezone('Asia/Shanghai', timezone('UTC', g.last_member_message_at))::date, latest.d)
                                                                      as days_since_last_member_message,
    day.member_messages_7d,
    day.member_messages_prior_7d,
    g.total_orders,
    g.total_net_gmv
from marts.dim_group as g
cross join latest
left join marts.group_daily as day
    on g.group_id = day.group_id and latest.d = day.business_date
where not g.is_dissolved
  and g.lifecycle_stage in ('dead', 'silent', 'declining')
order by
    case g.lifecycle_stage when 'dead' then 1 when 'silent' then 2 else 3 end,
    g.members_now desc,
    g.group_id asc
