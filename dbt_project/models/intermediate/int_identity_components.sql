{{ config(materialized='table') }}
-- Connected components of the identifier graph by min-label propagation with pointer
-- jumping, unrolled var('identity_iterations') times (plain SQL any warehouse can run).
-- Each round: take the smallest label among the node and its neighbours, then jump to the
-- label's own label, which halves remaining path lengths. The singular test
-- assert_identity_components_converged fails if the rounds did not suffice.
with nodes as (
    select distinct records.identifier as node
    from {{ ref('int_identity_records') }} as records
    left join {{ ref('int_identity_shared_identifiers') }} as shared
        on records.identifier = shared.identifier
    where shared.identifier is null
),

edges as materialized (
    select node_a, node_b from {{ ref('int_identity_edges') }}
),

labels_0 as materialized (
    select node, node as label from nodes
),
{% for i in range(1, var('identity_iterations') + 1) %}
propagated_{{ i }} as materialized (
    select labels.node, least(labels.label, coalesce(min(neighbours.label), labels.label)) as label
    from labels_{{ i - 1 }} as labels
    left join edges on edges.node_a = labels.node
    left join labels_{{ i - 1 }} as neighbours on neighbours.node = edges.node_b
    group by labels.node, labels.label
),

labels_{{ i }} as materialized (
    select propagated.node, least(propagated.label, jumped.label) as label
    from propagated_{{ i }} as propagated
    inner join propagated_{{ i }} as jumped on jumped.node = propagated.label
),
{% endfor %}

final as (
    select node as identifier, label as component
    from labels_{{ var('identity_iterations') }}
)

select * from final
