-- The ordered funnel of each member with an exposure (contracts §5): exposure -> interest ->
-- lead -> deal, each step at or after the previous one and within var('funnel_window_days')
-- of the first exposure (the edge itself counts). Breakdown attributes are the first
-- exposure's (first touch; ties: smallest event_id). Durations are whole elapsed seconds:
-- milliseconds floored, because datediff in seconds counts boundaries crossed instead.
with events as (
    select member_id, event_id, stage, channel, event_at, touchpoint_id, campaign_id, staff_id
    from {{ ref('fct_touchpoint_events') }}
),

ranked_exposures as (
    select
        member_id,
        event_at as exposure_at,
        event_id as exposure_event_id,
        channel,
        touchpoint_id,
        campaign_id,
        staff_id,
        {{ dbt.dateadd('day', var('funnel_window_days'), 'event_at') }} as window_ends_at,
        row_number() over (partition by member_id order by event_at nulls last, event_id) as exposure_rank
    from events
    where stage = 'exposure'
),

first_exposure as (
    select member_id, exposure_at, exposure_event_id, channel, touchpoint_id, campaign_id, staff_id, window_ends_at
    from ranked_exposures
    where exposure_rank = 1
),

interest as (
    select first_exposure.member_id, min(events.event_at) as interest_at
    from first_exposure
    inner join events
        on first_exposure.member_id = events.member_id
        and events.stage = 'interest'
        and first_exposure.exposure_at <= events.event_at
        and first_exposure.window_ends_at >= events.event_at
    group by first_exposure.member_id
),

lead_step as (
    select first_exposure.member_id, min(events.event_at) as lead_at
    from first_exposure
    inner join interest on first_exposure.member_id = interest.member_id
    inner join events
        on first_exposure.member_id = events.member_id
        and events.stage = 'lead'
        and interest.interest_at <= events.event_at
        and first_exposure.window_ends_at >= events.event_at
    group by first_exposure.member_id
),

deal as (
    select first_exposure.member_id, min(events.event_at) as deal_at
    from first_exposure
    inner join lead_step on first_exposure.member_id = lead_step.member_id
    inner join events
        on first_exposure.member_id = events.member_id
        and events.stage = 'deal'
        and lead_step.lead_at <= events.event_at
        and first_exposure.window_ends_at >= events.event_at
    group by first_exposure.member_id
)

select
    first_exposure.member_id,
    {{ business_date('first_exposure.exposure_at') }} as cohort_date,
    first_exposure.channel,
    first_exposure.campaign_id,
    first_exposure.touchpoint_id,
    first_exposure.staff_id,
    wecom.first_contact_state as contact_state,  -- of the member's first WeCom add
    first_exposure.exposure_event_id,
    first_exposure.exposure_at,
    interest.interest_at,
    lead_step.lead_at,
    deal.deal_at,
    case
        when deal.deal_at is not null then 'deal'
        when lead_step.lead_at is not null then 'lead'
        when interest.interest_at is not null then 'interest'
        else 'exposure'
    end as funnel_stage,
    cast(floor({{ dbt.datediff('first_exposure.exposure_at', 'interest.interest_at', 'millisecond') }} / 1000.0) as bigint) as seconds_to_interest,
    cast(floor({{ dbt.datediff('interest.interest_at', 'lead_step.lead_at', 'millisecond') }} / 1000.0) as bigint) as seconds_to_lead,
    cast(floor({{ dbt.datediff('lead_step.lead_at', 'deal.deal_at', 'millisecond') }} / 1000.0) as bigint) as seconds_to_deal,
    cast(floor({{ dbt.datediff('first_exposure.exposure_at', 'deal.deal_at', 'millisecond') }} / 1000.0) as bigint) as seconds_exposure_to_deal
from first_exposure
left join interest on first_exposure.member_id = interest.member_id
left join lead_step on first_exposure.member_id = lead_step.member_id
left join deal on first_exposure.member_id = deal.member_id
left join {{ ref('int_member_wecom_follows') }} as wecom on first_exposure.member_id = wecom.member_id
