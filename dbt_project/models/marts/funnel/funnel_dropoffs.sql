-- Grain: member who reached a funnel step but not the next one (funnel_stage exposure,
-- interest or lead in fct_member_funnel): the operators' follow-up list (流失名单). No raw
-- PII: the member is identified by member_id only; the staff owner is the WeCom staff
-- userid who first added the member. `is_window_closed` tells a final drop-off (the
-- funnel window ended before the latest business date began) from one still open.
with funnel as (
    select * from {{ ref('fct_member_funnel') }}
    where funnel_stage <> 'deal'
),

latest as (
    select max(latest_business_date) as latest_business_date from {{ ref('int_calendar') }}
)

select
    funnel.member_id,
    funnel.funnel_stage as stage_reached,
    case funnel.funnel_stage
        when 'exposure' then 'interest'
        when 'interest' then 'lead'
        when 'lead' then 'deal'
    end as next_stage,
    case funnel.funnel_stage
        when 'exposure' then funnel.exposure_at
        when 'interest' then funnel.interest_at
        when 'lead' then funnel.lead_at
    end as reached_at,
    funnel.cohort_date,
    funnel.exposure_at,
    {{ dbt.dateadd('day', var('funnel_window_days'), 'funnel.exposure_at') }} as window_ends_at,
    {{ dbt.dateadd('day', var('funnel_window_days'), 'funnel.exposure_at') }}
        < {{ business_midnight_utc('latest.latest_business_date') }} as is_window_closed,
    funnel.channel,
    funnel.campaign_id,
    funnel.touchpoint_id,
    owners.first_staff_userid as staff_owner
from funnel
cross join latest
left join {{ ref('int_member_wecom_follows') }} as owners on funnel.member_id = owners.member_id
