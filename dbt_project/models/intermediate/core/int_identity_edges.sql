-- Edges of the identifier graph: within a record, every identifying identifier is linked
-- to the record's smallest one (a star per record is enough for connectivity), both ways.
with identifying as (
    select records.record_id, records.identifier
    from {{ ref('int_identity_records') }} as records
    left join {{ ref('int_identity_shared_identifiers') }} as shared
        on records.identifier = shared.identifier
    where shared.identifier is null
),

anchored as (
    select record_id, identifier, min(identifier) over (partition by record_id) as anchor
    from identifying
),

one_way as (
    select distinct anchor as node_a, identifier as node_b
    from anchored
    where identifier <> anchor
)

select node_a, node_b from one_way
union all
select node_b, node_a from one_way
