-- Identifiers seen on records together with more than var('identity_max_unionids') distinct
-- unionids (a store landline used as buyer phone, a test account): non-identifying. They
-- link nothing and make no member by themselves (contracts §4). Also the audit list.
with record_unionids as (
    select record_id, identifier as unionid
    from {{ ref('int_identity_records') }}
    where identifier_kind = 'unionid'
),

touches as (
    select
        records.identifier,
        records.identifier_kind,
        count(distinct record_unionids.unionid) as unionids_touched,
        -- a record carries at most one unionid: one joined row per record and identifier
        sum(records.source_records) as records_seen,
        min(records.seen_at) as first_seen_at,
        max(records.last_seen_at) as last_seen_at
    from {{ ref('int_identity_records') }} as records
    inner join record_unionids on records.record_id = record_unionids.record_id
    where records.identifier_kind <> 'unionid'
    group by records.identifier, records.identifier_kind
)

select *
from touches
where unionids_touched > {{ var('identity_max_unionids') }}
