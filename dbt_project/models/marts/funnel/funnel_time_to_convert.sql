-- Grain: exposure cohort week (ISO week, Monday) × first-touch channel × funnel step.
-- The distribution of the time members took to complete each step of the ordered funnel
-- (fct_member_funnel): count, p50 / p90 (continuous percentiles, linear interpolation) and
-- a histogram of half-open buckets [0,1h) [1h,1d) [1d,3d) [3d,7d) [7d,14d) [14d,∞).
-- Percentiles cannot be re-aggregated: there is no all-channel row, query the
-- intermediate int_funnel_step_durations for other cuts.
with durations as (
    select * from {{ ref('int_funnel_step_durations') }}
)

select
    cohort_week,
    channel,
    step,
    step_order,
    count(*) as converted_members,
    percentile_cont(0.5) within group (order by duration_ms) / 1000.0 as p50_seconds,
    percentile_cont(0.9) within group (order by duration_ms) / 1000.0 as p90_seconds,
    percentile_cont(0.5) within group (order by duration_ms) / 3600000.0 as p50_hours,
    percentile_cont(0.9) within group (order by duration_ms) / 3600000.0 as p90_hours,
    avg(duration_ms) / 3600000.0 as mean_hours,
    cast(sum(case when duration_ms < 3600000 then 1 else 0 end) as bigint) as members_under_1h,
    cast(sum(case when duration_ms >= 3600000 and duration_ms < 86400000 then 1 else 0 end) as bigint) as members_1h_to_1d,
    cast(sum(case when duration_ms >= 86400000 and duration_ms < 3 * 86400000 then 1 else 0 end) as bigint) as members_1d_to_3d,
    cast(sum(case when duration_ms >= 3 * 86400000 and duration_ms < 7 * 86400000 then 1 else 0 end) as bigint) as members_3d_to_7d,
    cast(sum(case when duration_ms >= 7 * 86400000 and duration_ms < 14 * 86400000 then 1 else 0 end) as bigint) as members_7d_to_14d,
    cast(sum(case when duration_ms >= 14 * 86400000 then 1 else 0 end) as bigint) as members_14d_plus
from durations
group by cohort_week, channel, step, step_order
