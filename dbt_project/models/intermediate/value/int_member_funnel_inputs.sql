-- Everything a member's ordered funnel is computed from, per member with an exposure, and its
-- digest: the member's touchpoint events (the fields the funnel reads) and the contact-way code
-- of their first WeCom add. int_member_funnels recomputes a member only when this digest changed
-- (macros/incremental_members.sql).
with events as (
    select
        member_id,
        count(*) as events,
        count(case when stage = 'exposure' then 1 end) as exposures,
        {{ row_hash_sum('event_id', 'stage', 'channel', 'event_at', 'touchpoint_id', 'campaign_id', 'staff_id') }} as events_digest
    from {{ ref('fct_touchpoint_events') }}
    group by member_id
)

select
    events.member_id,
    {{ row_hash('events.events', 'events.events_digest', 'wecom.first_contact_state') }} as input_digest
from events
left join {{ ref('int_member_wecom_follows') }} as wecom on events.member_id = wecom.member_id
where events.exposures > 0
