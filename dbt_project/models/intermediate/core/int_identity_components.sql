{{ identity_components_config() }}
-- Connected components of the identifier graph by min-label propagation with pointer
-- jumping, in plain SQL any warehouse can run. Each round is its own statement (so a large
-- graph spills to disk instead of holding every round in memory): take the smallest label
-- among a node and its neighbours, then jump to that label's own label, which halves the
-- remaining path lengths. Rounds stop when no label changes, at most
-- var('identity_iterations'); the singular test assert_identity_components_converged fails
-- if that was not enough. The scratch tables are replaced through replace_table_as (Spark's
-- parquet tables have no CREATE OR REPLACE) and each statement is its own call (dbt-spark runs one
-- statement per call, hence one post-hook per scratch table).
--
-- Incremental on DuckDB (issue #10): each identifier keeps a digest of its neighbours
-- (edges_digest). An identifier whose neighbours changed, that appeared, or that left the graph
-- (became shared, was forgotten) is dirty; only the old components holding a dirty identifier,
-- plus the new identifiers, are labelled again. That subgraph is closed (an edge from it to an
-- untouched component would be a new edge, making its far end dirty too), and a label is its
-- component's smallest identifier, so the result equals a full recompute; the untouched
-- components keep their rows. The pre-hook (macros/incremental_identity.sql) deletes the rows
-- of the dirty components before the new labels are appended.
{%- set work = this.schema ~ '.int_identity_labels__work' %}
{%- set next = this.schema ~ '.int_identity_labels__next' %}
{%- set nodes = this.schema ~ '.int_identity_labels__nodes' %}
{%- set dirty = this.schema ~ '.int_identity_labels__dirty' %}
{%- set nodes_sql %}
    with identifying as (
        select distinct records.identifier as node
        from {{ ref('int_identity_records') }} as records
        left join {{ ref('int_identity_shared_identifiers') }} as shared
            on records.identifier = shared.identifier
        where shared.identifier is null
    ),

    neighbourhoods as (
        select node_a as node, {{ row_hash_sum('node_a', 'node_b') }} as edges_digest
        from {{ ref('int_identity_edges') }}
        group by node_a
    )

    select identifying.node, coalesce(neighbourhoods.edges_digest, 0) as edges_digest
    from identifying
    left join neighbourhoods on identifying.node = neighbourhoods.node
{%- endset %}
{%- set dirty_sql %}
    -- old components holding an identifier that left the graph or whose neighbours changed
    select distinct previous.component
    from {{ this }} as previous
    left join {{ nodes }} as current_nodes on previous.identifier = current_nodes.node
    where current_nodes.node is null or current_nodes.edges_digest <> previous.edges_digest
{%- endset %}
{%- set start_sql %}
    select current_nodes.node, current_nodes.node as label
    from {{ nodes }} as current_nodes
    {%- if is_incremental() %}
    left join {{ this }} as previous on current_nodes.node = previous.identifier
    where previous.identifier is null
        or previous.component in (select component from {{ dirty }})
    {%- endif %}
{%- endset %}
{%- set round_sql %}
    with propagated as (
        select labels.node, least(labels.label, coalesce(min(neighbours.label), labels.label)) as label
        from {{ work }} as labels
        left join {{ ref('int_identity_edges') }} as edges on edges.node_a = labels.node
        left join {{ work }} as neighbours on neighbours.node = edges.node_b
        group by labels.node, labels.label
    )
    select propagated.node, least(propagated.label, jumped.label) as label
    from propagated
    inner join propagated as jumped on jumped.node = propagated.label
{%- endset %}

{%- if execute and flags.WHICH in ('run', 'build') %}
    {%- do run_query('create schema if not exists ' ~ this.schema) %}
    {%- do replace_table_as(nodes, nodes_sql) %}
    {%- if is_incremental() %}
        {%- do replace_table_as(dirty, dirty_sql) %}
    {%- endif %}
    {%- do replace_table_as(work, start_sql) %}
    {%- set state = namespace(converged=false, rounds=0) %}
    {%- for i in range(var('identity_iterations')) if not state.converged %}
        {%- do replace_table_as(next, round_sql) %}
        {%- set changed = run_query('select count(*) from ' ~ next ~ ' as n inner join ' ~ work
            ~ ' as w on n.node = w.node where n.label <> w.label').columns[0].values()[0] %}
        {%- do run_query('drop table ' ~ work) %}
        {%- do run_query('alter table ' ~ next ~ ' rename to int_identity_labels__work') %}
        {%- set state.rounds = state.rounds + 1 %}
        {%- set state.converged = (changed == 0) %}
    {%- endfor %}
    {%- set labelled = run_query('select count(*) from ' ~ work).columns[0].values()[0] %}
    {%- do log('identity stitching: ' ~ labelled ~ ' identifiers labelled in ' ~ state.rounds
        ~ ' rounds, converged=' ~ state.converged, info=true) %}
{%- endif %}

{%- if execute and flags.WHICH in ('run', 'build') %}
select work.node as identifier, work.label as component, current_nodes.edges_digest
from {{ work }} as work
inner join {{ nodes }} as current_nodes on work.node = current_nodes.node
{%- else %}
-- compiled outside a run (docs, compile): the first round's shape, without executing the loop
select node as identifier, node as component, edges_digest
from ({{ nodes_sql }}) as current_nodes
{%- endif %}
