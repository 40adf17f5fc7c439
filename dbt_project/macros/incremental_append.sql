{#- The config of the digest-driven incremental models (member layers, identity stitching): on DuckDB
    an append-only incremental model whose pre-hook deletes the rows that are no longer current; on
    Spark (plain Parquet tables: no DELETE) an ordinary table, rebuilt each run, whose is_incremental()
    is false. -#}
{% macro append_incremental_on_duckdb(pre_hook, post_hook=[]) -%}
    {%- if target is defined and target.type == 'spark' -%}
    {{ config(materialized='table', post_hook=post_hook) }}
    {%- else -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=pre_hook,
        post_hook=post_hook
    ) }}
    {%- endif -%}
{%- endmacro %}
