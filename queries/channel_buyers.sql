-- Question: Which channels bring members who buy? Members, buyers, repeat buyers and net GMV
--           by the channel of each member's first touch.
-- 运营术语: 渠道质量 / 哪个渠道带来的会员会买单 (首次触点渠道 → 成交会员、复购、GMV)
--
-- Source: marts.dim_member (first_channel = channel of the member's earliest touchpoint event;
-- order_count / net_gmv = paid orders to date, refunds deducted).
-- One row per first-touch channel; a null channel means the member has no touchpoint event.
select
    first_channel,
    count(*)                                                   as members,
    count(*) filter (where order_count > 0)                    as buyers,
    round(count(*) filter (where order_count > 0) / count(*), 4) as buyer_rate,
    count(*) filter (where is_repeat_buyer)                    as repeat_buyers,
    sum(net_gmv)                                               as net_gmv,
    cast(sum(net_gmv) / count(*) as decimal(18, 2))            as net_gmv_per_member
from marts.dim_member
group by first_channel
order by net_gmv desc, buyers desc, members desc, first_channel asc
