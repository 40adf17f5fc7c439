{# All *_at columns are UTC TIMESTAMP (naive, millisecond precision); business dates are in var('business_timezone'). #}

{% macro epoch_ms_to_utc(expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_utc')(expr)) }}
{%- endmacro %}
{% macro default__epoch_ms_to_utc(expr) -%} make_timestamp(({{ expr }})::bigint * 1000) {%- endmacro %}
{#- Spark runs with session.timeZone=UTC and timestampType=TIMESTAMP_NTZ: timestamp_millis (LTZ,
    millisecond precision) cast to timestamp is the naive UTC time. -#}
{% macro spark__epoch_ms_to_utc(expr) -%} cast(timestamp_millis(cast({{ expr }} as bigint)) as timestamp) {%- endmacro %}

{% macro epoch_s_to_utc(expr) -%} {{ epoch_ms_to_utc('cast(' ~ expr ~ ' as bigint) * 1000') }} {%- endmacro %}

{% macro business_date(utc_ts) -%}
    {{ return(adapter.dispatch('business_date')(utc_ts)) }}
{%- endmacro %}
{% macro default__business_date(utc_ts) -%}
    cast(({{ utc_ts }} at time zone 'UTC') at time zone '{{ var("business_timezone") }}' as date)
{%- endmacro %}
{% macro spark__business_date(utc_ts) -%}
    cast(from_utc_timestamp({{ utc_ts }}, '{{ var("business_timezone") }}') as date)
{%- endmacro %}

{# A local business-time timestamp (e.g. order exports) to UTC. #}
{% macro local_to_utc(local_ts) -%}
    {{ return(adapter.dispatch('local_to_utc')(local_ts)) }}
{%- endmacro %}
{% macro default__local_to_utc(local_ts) -%}
    cast(({{ local_ts }} at time zone '{{ var("business_timezone") }}') at time zone 'UTC' as timestamp)
{%- endmacro %}
{% macro spark__local_to_utc(local_ts) -%}
    cast(to_utc_timestamp({{ local_ts }}, '{{ var("business_timezone") }}') as timestamp)
{%- endmacro %}

{# 00:00 business time of a business date, as UTC. #}
{% macro business_midnight_utc(business_date) -%}
    {{ local_to_utc('cast(' ~ business_date ~ ' as timestamp)') }}
{%- endmacro %}
