-- Grain: member with an exposure (same members as fct_member_funnel). The strict funnel:
-- the ordered funnel's steps, kept only while no event of another stage lies strictly
-- between consecutive steps — between step k at t_k and step k+1 at t_{k+1} no event whose
-- stage is neither stage k nor stage k+1 (so repeated exposures before the interest, or
-- repeated interest events before the lead, are allowed; a lead event before the first
-- interest, or a new exposure between interest and lead, breaks the funnel). The first
-- broken step and every later step are null; reaching step k still implies steps 1..k-1.
with funnel as (
    select * from {{ ref('fct_member_funnel') }}
),

breaks as (
    select * from {{ ref('int_funnel_strict_breaks') }}
),

strict_steps as (
    select
        funnel.member_id,
        funnel.cohort_date,
        funnel.channel,
        funnel.campaign_id,
        funnel.touchpoint_id,
        funnel.exposure_event_id,
        funnel.exposure_at,
        case when not breaks.interest_broken then funnel.interest_at end as interest_at,
        case when not breaks.interest_broken and not breaks.lead_broken then funnel.lead_at end as lead_at,
        case when not breaks.interest_broken and not breaks.lead_broken and not breaks.deal_broken
            then funnel.deal_at end as deal_at,
        funnel.funnel_stage as ordered_funnel_stage,
        case
            when funnel.interest_at is not null and breaks.interest_broken then 'interest'
            when funnel.lead_at is not null and breaks.lead_broken then 'lead'
            when funnel.deal_at is not null and breaks.deal_broken then 'deal'
        end as broken_at_step
    from funnel
    inner join breaks on funnel.member_id = breaks.member_id
)

select
    member_id,
    cohort_date,
    channel,
    campaign_id,
    touchpoint_id,
    exposure_event_id,
    exposure_at,
    interest_at,
    lead_at,
    deal_at,
    case
        when deal_at is not null then 'deal'
        when lead_at is not null then 'lead'
        when interest_at is not null then 'interest'
        else 'exposure'
    end as funnel_stage,
    ordered_funnel_stage,
    broken_at_step
from strict_steps
