{#- Spark overrides of dbt's cross-database date macros (found first through the `dispatch` search
  order in dbt_project.yml; DuckDB keeps dbt's own). dbt-spark's dateadd goes through
  to_timestamp(bigint): NULL under spark.sql.timestampType=TIMESTAMP_NTZ, and it drops milliseconds
  under LTZ. timestampadd keeps the input's type and its milliseconds. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, ({{ interval }}), {{ from_date_or_timestamp }})
{%- endmacro %}

{#- DuckDB's date_diff semantics (boundaries crossed) for the dateparts the models use: day and
  month count calendar boundaries, millisecond the elapsed milliseconds; BIGINT like DuckDB's
  (Spark's datediff is INT, which a bigint contract column would reject). -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set part = datepart | lower -%}
    {%- if part == 'day' -%}
        cast(datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) as bigint)
    {%- elif part == 'month' -%}
        cast((year({{ second_date }}) * 12 + month({{ second_date }})) - (year({{ first_date }}) * 12 + month({{ first_date }})) as bigint)
    {%- elif part == 'millisecond' -%}
        timestampdiff(MILLISECOND, {{ first_date }}, {{ second_date }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("spark__datediff: datepart '" ~ datepart ~ "' is not supported") }}
    {%- endif -%}
{%- endmacro %}
