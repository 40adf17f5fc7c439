-- Grain: one member × one funnel step they completed, with the time it took, in
-- milliseconds (timestamps keep ms precision). Steps: exposure_to_interest,
-- interest_to_lead, lead_to_deal (consecutive steps) and exposure_to_deal (end to end).
-- Long format so distributions (funnel_time_to_convert) are one group-by.
with funnel as (
    select * from {{ ref('fct_member_funnel') }}
),

steps as (
    select member_id, cohort_date, channel, campaign_id,
        'exposure_to_interest' as step, 1 as step_order, exposure_at as from_at, interest_at as to_at
    from funnel where interest_at is not null
    union all
    select member_id, cohort_date, channel, campaign_id,
        'interest_to_lead', 2, interest_at, lead_at  -- noqa: AL03
    from funnel where lead_at is not null
    union all
    select member_id, cohort_date, channel, campaign_id,
        'lead_to_deal', 3, lead_at, deal_at  -- noqa: AL03
    from funnel where deal_at is not null
    union all
    select member_id, cohort_date, channel, campaign_id,
        'exposure_to_deal', 4, exposure_at, deal_at  -- noqa: AL03
    from funnel where deal_at is not null
)

select
    member_id,
    cohort_date,
    cast({{ dbt.date_trunc('week', 'cohort_date') }} as date) as cohort_week,
    channel,
    campaign_id,
    step,
    step_order,
    from_at,
    to_at,
    {{ dbt.datediff('from_at', 'to_at', 'millisecond') }} as duration_ms
from steps
