-- Funnel stage counts per exposure cohort date, first-touch channel and campaign.
-- Counts are monotonic by construction: deal <= lead <= interest <= exposure.
select
    cohort_date,
    channel,
    campaign_id,
    count(*) as exposure_members,
    count(interest_at) as interest_members,
    count(lead_at) as lead_members,
    count(deal_at) as deal_members,
    cast(count(interest_at) as double) / count(*) as interest_rate,
    cast(count(lead_at) as double) / nullif(count(interest_at), 0) as lead_rate,
    cast(count(deal_at) as double) / nullif(count(lead_at), 0) as deal_rate,
    cast(count(deal_at) as double) / count(*) as overall_conversion_rate
from {{ ref('fct_member_funnel') }}
group by cohort_date, channel, campaign_id
