-- Grain: one member with an exposure. For each step of the member's ordered funnel, whether
-- the step is "broken" for the strict funnel: an event of a stage other than the two
-- stages of the step lies strictly between the previous step and this step
-- (exposure→interest: a lead or deal event; interest→lead: an exposure or deal event;
-- lead→deal: an exposure or interest event). Events at exactly t_k or t_{k+1} do not break.
-- Only the ordered funnel's step times are checked: any later candidate for step k+1 would
-- span the same breaking event, so the first candidate is the only one that can qualify.
with funnel as (
    select member_id, exposure_at, interest_at, lead_at, deal_at
    from {{ ref('fct_member_funnel') }}
),

events as (
    select member_id, stage, event_at
    from {{ ref('fct_touchpoint_events') }}
    where stage is not null
),

breaks as (
    select
        funnel.member_id,
        max(case when events.stage in ('lead', 'deal')
            and events.event_at > funnel.exposure_at and events.event_at < funnel.interest_at then 1 else 0 end) as interest_broken,
        max(case when events.stage in ('exposure', 'deal')
            and events.event_at > funnel.interest_at and events.event_at < funnel.lead_at then 1 else 0 end) as lead_broken,
        max(case when events.stage in ('exposure', 'interest')
            and events.event_at > funnel.lead_at and events.event_at < funnel.deal_at then 1 else 0 end) as deal_broken
    from funnel
    inner join events
        on funnel.member_id = events.member_id
        and funnel.exposure_at < events.event_at
        and events.event_at < coalesce(funnel.deal_at, funnel.lead_at, funnel.interest_at, funnel.exposure_at)
    group by funnel.member_id
)

select
    funnel.member_id,
    coalesce(breaks.interest_broken, 0) = 1 as interest_broken,
    coalesce(breaks.lead_broken, 0) = 1 as lead_broken,
    coalesce(breaks.deal_broken, 0) = 1 as deal_broken
from funnel
left join breaks on funnel.member_id = breaks.member_id
