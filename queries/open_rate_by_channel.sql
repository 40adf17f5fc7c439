-- Question: What is the push open rate by channel over the last 30 days?
-- 运营术语: 触达打开率 / 近 30 天各渠道推送送达、打开、打开率 (服务号、订阅号、朋友圈 …)
--
-- Source: marts.channel_reach (delivered = push_delivered events, opened = push_opened
-- events, per business date and channel). The last 30 days are D−29 … D, where D is the
-- warehouse's latest business date (taken from marts.member_layers_daily, one row per date).
-- open_rate is null for a channel with opens but no deliveries.
with latest as (
    select max(business_date) as d from marts.member_layers_daily
)

select
    r.channel,
    sum(r.delivered)                                          as delivered,
    sum(r.opened)                                             as opened,
    round(sum(r.opened) / nullif(sum(r.delivered), 0), 4)     as open_rate
from marts.channel_reach as r
cross join latest
where r.business_date > latest.d - 30
  and r.business_date <= latest.d
group by r.channel
order by open_rate desc nulls last, delivered desc, r.channel asc
