-- The ordered funnel of each member with an exposure (contracts §5). Computed in
-- intermediate/value/int_member_funnels.sql (incremental by member); published here without
-- its input digest.
select
    member_id,
    cohort_date,
    channel,
    campaign_id,
    touchpoint_id,
    staff_id,
    contact_state,
    exposure_event_id,
    exposure_at,
    interest_at,
    lead_at,
    deal_at,
    funnel_stage,
    seconds_to_interest,
    seconds_to_lead,
    seconds_to_deal,
    seconds_exposure_to_deal
from {{ ref('int_member_funnels') }}
