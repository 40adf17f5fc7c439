-- Question: How do acquisition cohorts repurchase, and what is their LTV? Retention, repeat
--           buyers and cumulative net GMV per member, by acquisition month and months since.
-- 运营术语: 同期群复购与 LTV / 按获客月份的留存率、复购率、人均累计 GMV
--
-- Source: marts.cohort_retention (acquisition month = business month of the member's
-- first_seen_at; retained = a touchpoint event or paid order in the month; repeat buyers
-- (≥ 2 paid orders) and net GMV are cumulative to the end of the month).
-- One row per cohort month × months since acquisition (0 = the acquisition month).
select
    cohort_month,
    months_since,
    activity_month,
    cohort_members,
    retained_members,
    round(retained_members / cohort_members, 4) as retention_rate,
    repeat_buyers,
    round(repeat_buyers / cohort_members, 4)    as repeat_buyer_rate,
    cumulative_net_gmv,
    cumulative_net_gmv_per_member               as ltv_per_member
from marts.cohort_retention
order by cohort_month, months_since
