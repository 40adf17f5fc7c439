-- Identifier -> member. A member is a connected component; its member_id is derived from
-- the component's earliest-seen identifier (ties: smallest 'kind:value'; an unknown time sorts
-- last), so new data never renames a member unless two merge, and then the older id survives
-- (contracts §4).
with first_seen as (
    select identifier, identifier_kind, min(seen_at) as first_seen_at
    from {{ ref('int_identity_records') }}
    group by identifier, identifier_kind
),

identifiers as (
    select components.identifier, components.component, first_seen.identifier_kind, first_seen.first_seen_at
    from {{ ref('int_identity_components') }} as components
    inner join first_seen on components.identifier = first_seen.identifier
),

ranked as (
    select
        component,
        identifier,
        row_number() over (partition by component order by first_seen_at nulls last, identifier) as founder_rank
    from identifiers
),

founders as (
    select component, identifier as founding_identifier
    from ranked
    where founder_rank = 1
)

select
    identifiers.identifier,
    identifiers.identifier_kind,
    identifiers.first_seen_at,
    {{ member_id_from('founders.founding_identifier') }} as member_id,
    founders.founding_identifier
from identifiers
inner join founders on identifiers.component = founders.component
