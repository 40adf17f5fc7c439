{{ config(meta={'dagster': {'ref': {'name': 'int_identity_components'}}}) }}
-- Label propagation converged: no edge joins identifiers with different components.
-- If this fails, raise var('identity_iterations'). Every edge is stored both ways, so one
-- direction (node_a < node_b) checks them all at half the cost.
select edges.node_a, edges.node_b, a.component as component_a, b.component as component_b
from {{ ref('int_identity_edges') }} as edges
inner join {{ ref('int_identity_components') }} as a on edges.node_a = a.identifier
inner join {{ ref('int_identity_components') }} as b on edges.node_b = b.identifier
where edges.node_a < edges.node_b and a.component <> b.component
