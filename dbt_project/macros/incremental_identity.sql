{#-
  Identity stitching incremental by component (issue #10; the model: int_identity_components).
  On DuckDB the table is appended to: the pre-hook deletes the rows of the components that held a
  dirty identifier (scratch table int_identity_labels__dirty, written while the model's SQL was
  rendered), and the model then appends those components' identifiers labelled again, with the new
  identifiers. On Spark (plain Parquet tables: no DELETE) it is an ordinary table, labelled whole
  each run. A changed dbt project, `siyu build --full-refresh` and `siyu forget` label it whole.
-#}
{% macro identity_components_config() -%}
    {%- set scratch = ['work', 'next', 'nodes', 'dirty'] -%}
    {%- set drops = [] -%}
    {%- for name in scratch -%}
        {%- do drops.append("drop table if exists {{ this.schema }}.int_identity_labels__" ~ name) -%}
    {%- endfor -%}
    {{ append_incremental_on_duckdb(pre_hook="{{ delete_dirty_components() }}", post_hook=drops) }}
{%- endmacro %}

{# Pre-hook: the rows of the components that are labelled again in this run. #}
{% macro delete_dirty_components() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where component in (select component from {{ this.schema }}.int_identity_labels__dirty)
    {%- endif -%}
{%- endmacro %}
