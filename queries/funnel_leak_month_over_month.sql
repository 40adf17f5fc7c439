-- Question: Where does the funnel leak this month vs last month? Step conversion
--           (exposure → interest → lead → deal) of the latest two exposure-cohort months.
-- 运营术语: 漏斗流失环节 / 本月 vs 上月 各环节转化率 (曝光 → 兴趣 → 线索 → 成交)
--
-- Source: marts.funnel_daily (cohort = business date of the member's first exposure; a step
-- counts when reached within the funnel window). "This month" is the month of the latest
-- cohort date in the warehouse; both months always appear (zeros if a month has no cohort).
-- The current month's cohorts are still maturing: their windows may not have closed yet.
-- One row per cohort month × step; rate_change is this month's rate minus last month's.
with months as (
    select date_trunc('month', max(cohort_date))::date as this_month from marts.funnel_daily
),

cohort_months as (
    select this_month as cohort_month from months
    union all
    select (this_month - interval 1 month)::date from months
),

totals as (
    select
        cohort_months.cohort_month,
        coalesce(sum(f.exposure_members), 0) as exposure_members,
        coalesce(sum(f.interest_members), 0) as interest_members,
        coalesce(sum(f.lead_members), 0)     as lead_members,
        coalesce(sum(f.deal_members), 0)     as deal_members
    from cohort_months
    left join marts.funnel_daily as f
        on date_trunc('month', f.cohort_date)::date = cohort_months.cohort_month
    group by cohort_months.cohort_month
),

steps as (
    select cohort_month, 1 as step_order, 'exposure_to_interest' as step,
           exposure_members as from_members, interest_members as to_members from totals
    union all
    select cohort_month, 2 as step_order, 'interest_to_lead' as step,
           interest_members as from_members, lead_members as to_members from totals
    union all
    select cohort_month, 3 as step_order, 'lead_to_deal' as step,
           lead_members as from_members, deal_members as to_members from totals
),

rates as (
    select *, round(to_members / nullif(from_members, 0), 4) as conversion_rate
    from steps
)

select
    cohort_month,
    step_order,
    step,
    from_members,
    to_members,
    from_members - to_members as lost_members,
    conversion_rate,
    round(conversion_rate - lag(conversion_rate) over (partition by step order by cohort_month), 4) as rate_change
from rates
order by cohort_month desc, step_order asc
