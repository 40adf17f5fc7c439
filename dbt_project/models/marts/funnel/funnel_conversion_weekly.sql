-- Grain: exposure cohort week (ISO week, Monday) × first-touch channel. The conversion
-- trend of the ordered funnel (fct_member_funnel) by week; counts are monotonic
-- (deal <= lead <= interest <= exposure) and a recent week's numbers still grow until its
-- members' funnel windows (funnel_window_days) have closed.
select
    cast({{ dbt.date_trunc('week', 'cohort_date') }} as date) as cohort_week,
    channel,
    {{ funnel_stage_counts() }}
from {{ ref('fct_member_funnel') }}
group by 1, 2
