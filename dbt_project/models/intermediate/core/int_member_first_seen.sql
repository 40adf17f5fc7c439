-- Every member with the earliest time on any record of theirs: a touchpoint event, an
-- order's created_at, or a group message they sent (contracts §5). A member seen on no such
-- record (e.g. only an unfollow) falls back to the earliest record carrying their identifiers.
with times as (
    select member_id, event_at as seen_at from {{ ref('fct_touchpoint_events') }}
    union all
    select member_id, created_at from {{ ref('fct_orders') }} where member_id is not null
    union all
    select member_id, sent_at from {{ ref('int_group_messages_enriched') }} where member_id is not null
),

from_facts as (
    select member_id, min(seen_at) as first_seen_at
    from times
    group by member_id
),

from_identifiers as (
    select member_id, min(first_seen_at) as first_seen_at
    from {{ ref('int_identity_map') }}
    group by member_id
)

select
    from_identifiers.member_id,
    coalesce(from_facts.first_seen_at, from_identifiers.first_seen_at) as first_seen_at
from from_identifiers
left join from_facts on from_identifiers.member_id = from_facts.member_id
