{#-
  Member-level incremental models (issue #10): a new day or a correction recomputes the members
  whose inputs changed, and every member's new dates, instead of every member's whole history.

  Each such model reads a table of its inputs per member with an `input_digest` (an order-independent
  hash of everything the model reads about that member, e.g. `int_member_layer_inputs`) and stores
  the digest it was computed from on each of its rows. Before a run, the pre-hook deletes the rows
  of every member whose digest is no longer the current one (changed, merged into another member,
  forgotten) and the rows after the calendar's last date (a last day withdrawn); the run then
  appends, per member, what the table lacks: all dates of a member it no longer holds, the new
  dates of the others. The result equals a full rebuild whatever changed, because a member's rows
  on a date depend only on that member's inputs up to the date — which the digest covers.

  A changed dbt project, `siyu build --full-refresh` and `siyu forget` rebuild them whole. On Spark
  (plain Parquet tables: no DELETE) they are ordinary tables, rebuilt each run; is_incremental() is
  then false, so the models' incremental branches (DuckDB SQL) never run there.
-#}
{% macro member_incremental(inputs_model) -%}
    {{ append_incremental_on_duckdb(pre_hook="{{ delete_changed_member_rows('" ~ inputs_model ~ "') }}") }}
{%- endmacro %}

{# Pre-hook: drop the rows computed from inputs that are no longer current, and dates past the calendar. #}
{% macro delete_changed_member_rows(inputs_model) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where not exists (
            select 1 from {{ ref(inputs_model) }} as inputs
            where inputs.member_id = {{ this }}.member_id and inputs.input_digest = {{ this }}.input_digest
        )
        or business_date > (select max(business_date) from {{ ref('int_calendar') }})
    {%- endif -%}
{%- endmacro %}

{# The date after which a member's rows must be (re)computed: what this table already holds of them. #}
{% macro member_rows_built_through() -%}
    select member_id, max(business_date) as built_through
    from {{ this }}
    group by member_id
{%- endmacro %}

{#- An order-independent digest of a member's input rows: a row hash summed without overflow. The
    hash need not be stable across engine versions (a different one only makes every member look
    changed, i.e. a full recompute). -#}
{% macro row_hash() -%}
    {{ return(adapter.dispatch('row_hash')(varargs)) }}
{%- endmacro %}
{% macro default__row_hash(columns) -%} hash({{ columns | join(', ') }}) {%- endmacro %}
{% macro spark__row_hash(columns) -%} xxhash64({{ columns | join(', ') }}) {%- endmacro %}

{% macro row_hash_sum() -%}
    {{ return(adapter.dispatch('row_hash_sum')(varargs)) }}
{%- endmacro %}
{% macro default__row_hash_sum(columns) -%} sum(cast(hash({{ columns | join(', ') }}) as hugeint)) {%- endmacro %}
{% macro spark__row_hash_sum(columns) -%} sum(cast(xxhash64({{ columns | join(', ') }}) as decimal(38, 0))) {%- endmacro %}

{# Days since 1970-01-01: an integer to order RANGE windows by day on both engines. #}
{% macro day_number(date_expr) -%}
    {{ return(adapter.dispatch('day_number')(date_expr)) }}
{%- endmacro %}
{% macro default__day_number(date_expr) -%} cast({{ date_expr }} - date '1970-01-01' as integer) {%- endmacro %}
{% macro spark__day_number(date_expr) -%} datediff({{ date_expr }}, date '1970-01-01') {%- endmacro %}
