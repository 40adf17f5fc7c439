{{ config(
    materialized='table',
    post_hook=[
        "drop table if exists {{ this.schema }}.int_identity_labels__work",
        "drop table if exists {{ this.schema }}.int_identity_labels__next"]
) }}
-- Connected components of the identifier graph by min-label propagation with pointer
-- jumping, in plain SQL any warehouse can run. Each round is its own statement (so a large
-- graph spills to disk instead of holding every round in memory): take the smallest label
-- among a node and its neighbours, then jump to that label's own label, which halves the
-- remaining path lengths. Rounds stop when no label changes, at most
-- var('identity_iterations'); the singular test assert_identity_components_converged fails
-- if that was not enough. The scratch tables are replaced through replace_table_as (Spark's
-- parquet tables have no CREATE OR REPLACE) and each statement is its own call (dbt-spark runs one
-- statement per call, hence the two post-hooks).
{%- set work = this.schema ~ '.int_identity_labels__work' %}
{%- set next = this.schema ~ '.int_identity_labels__next' %}
{%- set nodes_sql %}
    select distinct records.identifier as node, records.identifier as label
    from {{ ref('int_identity_records') }} as records
    left join {{ ref('int_identity_shared_identifiers') }} as shared
        on records.identifier = shared.identifier
    where shared.identifier is null
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
    {%- do replace_table_as(work, nodes_sql) %}
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
    {%- do log('identity stitching: ' ~ state.rounds ~ ' rounds, converged=' ~ state.converged, info=true) %}
{%- endif %}

{%- if execute and flags.WHICH in ('run', 'build') %}
select node as identifier, label as component
from {{ work }}
{%- else %}
-- compiled outside a run (docs, compile): the first round's shape, without executing the loop
select node as identifier, label as component
from ({{ nodes_sql }}) as nodes
{%- endif %}
