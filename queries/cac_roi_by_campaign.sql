-- Question: What does each campaign cost per acquired member (CAC), and does it pay back (ROI)?
-- 运营术语: 投放 ROI / 各活动获客成本 (CAC) 与投资回报率
--
-- Source: marts.channel_performance (per acquisition month × first-touch channel × campaign:
-- members whose first touch came from the campaign, their buyers and net GMV to date, and
-- the campaign's spend). Summed over months and channels per campaign:
-- CAC = cost / new members, ROI = (net GMV − cost) / cost. A campaign with spend but no
-- acquired member has a null CAC. Members acquired outside any campaign are left out.
select
    campaign_id,
    string_agg(distinct channel, ', ' order by channel)          as channels,
    sum(cost)                                                    as cost,
    sum(new_members)                                             as new_members,
    sum(buyers)                                                  as buyers,
    sum(net_gmv)                                                 as net_gmv,
    cast(sum(cost) / nullif(sum(new_members), 0) as decimal(18, 2)) as cac,
    round((sum(net_gmv) - sum(cost)) / nullif(sum(cost), 0), 4)  as roi
from marts.channel_performance
where campaign_id is not null
group by campaign_id
order by roi desc nulls last, campaign_id asc
