-- Grain: exposure cohort week (ISO week, Monday) × first-touch channel. The conversion
-- trend of the ordered funnel (fct_member_funnel) by week; counts are monotonic
-- (deal <= lead <= interest <= exposure) and a recent week's numbers still grow until its
-- members' funnel windows (funnel_window_days) have closed.
select
    cast({{ dbt.date_trunc('week', 'cohort_date') }} as date) as cohort_week,
    channel,
    count(*) as exposure_members,
    count(interest_at) as interest_members,
    count(lead_at) as lead_members,
    count(deal_at) as deal_members,
    cast(count(interest_at) as double) / count(*) as interest_rate,
    cast(count(lead_at) as double) / nullif(count(interest_at), 0) as lead_rate,
    cast(count(deal_at) as double) / nullif(count(lead_at), 0) as deal_rate,
    cast(count(deal_at) as double) / count(*) as overall_conversion_rate
from {{ ref('fct_member_funnel') }}
group by 1, 2
