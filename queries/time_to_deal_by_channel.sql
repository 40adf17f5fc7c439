-- Question: How long does it take from first exposure to a deal, by channel? Median (p50) and
--           90th percentile (p90), in hours and days.
-- 运营术语: 成交周期 / 从曝光到成交的时长 (按渠道, P50 / P90)
--
-- Source: marts.fct_member_funnel (ordered funnel per member; channel = first exposure's
-- channel; deal_at = first paid order after the lead, within the funnel window).
-- Continuous percentiles over millisecond durations, like marts.funnel_time_to_convert
-- (which has the same figures per cohort week). One row per channel with at least one deal.
with deals as (
    select
        channel,
        date_diff('millisecond', exposure_at, deal_at) / 3600000.0 as hours_to_deal
    from marts.fct_member_funnel
    where deal_at is not null
)

select
    channel,
    count(*)                                                              as deal_members,
    round(percentile_cont(0.5) within group (order by hours_to_deal), 2)  as p50_hours,
    round(percentile_cont(0.9) within group (order by hours_to_deal), 2)  as p90_hours,
    round(percentile_cont(0.5) within group (order by hours_to_deal) / 24, 2) as p50_days,
    round(percentile_cont(0.9) within group (order by hours_to_deal) / 24, 2) as p90_days
from deals
group by channel
order by p50_hours, channel
