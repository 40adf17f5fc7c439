-- One touchpoint event of one member (tracked or derived, contracts §5). Events whose
-- identifiers resolve to no member are left out here and counted in identity_unresolved.
select
    event_id,
    member_id,
    event,
    stage,
    channel,
    event_at,
    business_date,
    touchpoint_id,
    campaign_id,
    staff_id,
    group_id,
    source_system
from {{ ref('int_touchpoint_events') }}
where member_id is not null
