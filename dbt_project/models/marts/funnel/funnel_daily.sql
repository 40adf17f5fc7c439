-- Funnel stage counts per exposure cohort date, first-touch channel and campaign.
-- Counts are monotonic by construction: deal <= lead <= interest <= exposure.
select
    cohort_date,
    channel,
    campaign_id,
    {{ funnel_stage_counts() }}
from {{ ref('fct_member_funnel') }}
group by cohort_date, channel, campaign_id
