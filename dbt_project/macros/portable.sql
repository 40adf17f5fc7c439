{#- Engine-specific SQL of the intermediate models and marts (issue #15): each macro's default__ is the
  DuckDB SQL the models ran before the Spark port (so DuckDB output does not change), spark__ the
  Spark 4 SQL that gives the same answers. Where the engines' functions differ on NULLs the comment
  says which behaviour both keep. Array macros take and return array<string> / varchar[]. -#}

{# An array of the arguments, NULL elements kept (DuckDB list_value, Spark array). #}
{% macro array_of() -%}
    {{ return(adapter.dispatch('array_of')(*varargs)) }}
{%- endmacro %}
{% macro default__array_of() -%} list_value({{ varargs | join(', ') }}) {%- endmacro %}
{% macro spark__array_of() -%} array({{ varargs | join(', ') }}) {%- endmacro %}

{# An empty array of strings. #}
{% macro empty_string_array() -%}
    {{ return(adapter.dispatch('empty_string_array')()) }}
{%- endmacro %}
{% macro default__empty_string_array() -%} [] {%- endmacro %}
{% macro spark__empty_string_array() -%} cast(array() as array<string>) {%- endmacro %}

{# Two arrays one after the other; a NULL array counts as empty (DuckDB list_concat; Spark's
   concat would return NULL). #}
{% macro array_cat(first, second) -%}
    {{ return(adapter.dispatch('array_cat')(first, second)) }}
{%- endmacro %}
{% macro default__array_cat(first, second) -%} list_concat({{ first }}, {{ second }}) {%- endmacro %}
{% macro spark__array_cat(first, second) -%}
    concat(coalesce({{ first }}, {{ empty_string_array() }}), coalesce({{ second }}, {{ empty_string_array() }}))
{%- endmacro %}

{# `body` (an expression of `var`) for every element of the array; NULL array -> NULL. #}
{% macro array_map(array, var, body) -%}
    {{ return(adapter.dispatch('array_map')(array, var, body)) }}
{%- endmacro %}
{% macro default__array_map(array, var, body) -%} list_transform({{ array }}, lambda {{ var }}: {{ body }}) {%- endmacro %}
{% macro spark__array_map(array, var, body) -%} transform({{ array }}, {{ var }} -> {{ body }}) {%- endmacro %}

{# The distinct non-NULL elements of an array, sorted ascending (DuckDB list_distinct drops NULLs,
   Spark array_distinct keeps one: array_compact first). #}
{% macro sorted_distinct(array) -%}
    {{ return(adapter.dispatch('sorted_distinct')(array)) }}
{%- endmacro %}
{% macro default__sorted_distinct(array) -%} list_sort(list_distinct({{ array }})) {%- endmacro %}
{% macro spark__sorted_distinct(array) -%} array_sort(array_distinct(array_compact({{ array }}))) {%- endmacro %}

{# Aggregate: the distinct non-NULL values of `expr` in the group, sorted ascending ([] if none). #}
{% macro sorted_distinct_agg(expr) -%}
    {{ return(adapter.dispatch('sorted_distinct_agg')(expr)) }}
{%- endmacro %}
{% macro default__sorted_distinct_agg(expr) -%} list_sort(list_distinct(list({{ expr }}))) {%- endmacro %}
{% macro spark__sorted_distinct_agg(expr) -%} array_sort(array_distinct(collect_list({{ expr }}))) {%- endmacro %}

{# Aggregate over an array column: the distinct non-NULL elements of all the group's arrays, sorted
   ascending; NULL arrays are skipped (DuckDB flatten skips them, Spark collect_list drops them). #}
{% macro sorted_distinct_flatten_agg(array) -%}
    {{ return(adapter.dispatch('sorted_distinct_flatten_agg')(array)) }}
{%- endmacro %}
{% macro default__sorted_distinct_flatten_agg(array) -%} list_sort(list_distinct(flatten(list({{ array }})))) {%- endmacro %}
{% macro spark__sorted_distinct_flatten_agg(array) -%}
    array_sort(array_distinct(array_compact(flatten(collect_list({{ array }})))))
{%- endmacro %}

{# One row per element of the array, in the select list (no row for a NULL or empty array). #}
{% macro unnest_array(array) -%}
    {{ return(adapter.dispatch('unnest_array')(array)) }}
{%- endmacro %}
{% macro default__unnest_array(array) -%} unnest({{ array }}) {%- endmacro %}
{% macro spark__unnest_array(array) -%} explode({{ array }}) {%- endmacro %}

{# Aggregate: `expr` of the row with the largest `key`, among the rows where `expr` is not NULL
   (DuckDB arg_max skips NULL values; Spark max_by would return a NULL value, so its key is nulled). #}
{% macro arg_max_not_null(expr, key) -%}
    {{ return(adapter.dispatch('arg_max_not_null')(expr, key)) }}
{%- endmacro %}
{% macro default__arg_max_not_null(expr, key) -%} arg_max({{ expr }}, {{ key }}) {%- endmacro %}
{% macro spark__arg_max_not_null(expr, key) -%}
    max_by({{ expr }}, case when {{ expr }} is not null then {{ key }} end)
{%- endmacro %}

{# In the select list: one row per date from `first_date` to `last_date` (inclusive), as DATE. #}
{% macro date_series(first_date, last_date) -%}
    {{ return(adapter.dispatch('date_series')(first_date, last_date)) }}
{%- endmacro %}
{% macro default__date_series(first_date, last_date) -%}
    cast(unnest(generate_series({{ first_date }}, {{ last_date }}, interval 1 day)) as date)
{%- endmacro %}
{% macro spark__date_series(first_date, last_date) -%}
    explode(sequence({{ first_date }}, {{ last_date }}, interval 1 day))
{%- endmacro %}

{# Seconds since 1970-01-01 of a UTC timestamp, as BIGINT rounded to the nearest second, ties to
   even (DuckDB: cast(epoch(ts) as bigint) rounds the DOUBLE epoch; Spark: bround of exact micros). #}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds')(ts)) }}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%} cast(epoch({{ ts }}) as bigint) {%- endmacro %}
{% macro spark__epoch_seconds(ts) -%}
    cast(bround(unix_micros(cast({{ ts }} as timestamp_ltz)) / 1000000.0, 0) as bigint)
{%- endmacro %}

{# Window function head: the last non-NULL value of `expr` in the frame (write `over (...)` after it). #}
{% macro last_value_ignore_nulls(expr) -%}
    {{ return(adapter.dispatch('last_value_ignore_nulls')(expr)) }}
{%- endmacro %}
{% macro default__last_value_ignore_nulls(expr) -%} last_value({{ expr }} ignore nulls) {%- endmacro %}
{% macro spark__last_value_ignore_nulls(expr) -%} last_value({{ expr }}, true) {%- endmacro %}

{# A DOUBLE amount as DECIMAL(18,2), rounded half away from zero on the binary value times 100
   (what DuckDB's cast does; Spark's cast rounds the shortest decimal string instead, so
   1.005 -> 1.01 there: round the cents explicitly). #}
{% macro money_from_double(expr) -%}
    {{ return(adapter.dispatch('money_from_double')(expr)) }}
{%- endmacro %}
{% macro default__money_from_double(expr) -%} cast({{ expr }} as decimal(18, 2)) {%- endmacro %}
{% macro spark__money_from_double(expr) -%}
    cast(round(cast({{ expr }} as double) * 100, 0) / 100 as decimal(18, 2))
{%- endmacro %}

{# Run (at execution) the statements that make `relation` a table holding the result of `sql`,
   replacing it if it exists. Spark: parquet tables have no CREATE OR REPLACE, and dbt-spark runs
   one statement per call. #}
{% macro replace_table_as(relation, sql) -%}
    {{ return(adapter.dispatch('replace_table_as')(relation, sql)) }}
{%- endmacro %}
{% macro default__replace_table_as(relation, sql) -%}
    {%- do run_query('create or replace table ' ~ relation ~ ' as ' ~ sql) %}
{%- endmacro %}
{% macro spark__replace_table_as(relation, sql) -%}
    {%- do run_query('drop table if exists ' ~ relation) %}
    {%- do run_query('create table ' ~ relation ~ ' using parquet as ' ~ sql) %}
{%- endmacro %}

{# A DOUBLE rounded to `digits` decimals, half away from zero on the binary value times 10^digits
   (DuckDB's round(double, n); Spark's round(double, n) rounds the shortest decimal string instead,
   while at 0 digits both round the binary value the same way). #}
{% macro round_double(expr, digits) -%}
    {{ return(adapter.dispatch('round_double')(expr, digits)) }}
{%- endmacro %}
{% macro default__round_double(expr, digits) -%} round({{ expr }}, {{ digits }}) {%- endmacro %}
{% macro spark__round_double(expr, digits) -%}
    (round(cast({{ expr }} as double) * {{ 10 ** digits }}, 0) / {{ 10 ** digits }})
{%- endmacro %}
