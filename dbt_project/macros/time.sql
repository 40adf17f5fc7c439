{# All *_at columns are UTC TIMESTAMP (naive, millisecond precision); business dates are in var('business_timezone'). #}

{% macro epoch_ms_to_utc(expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_utc')(expr)) }}
{%- endmacro %}
{% macro default__epoch_ms_to_utc(expr) -%} make_timestamp(({{ expr }})::bigint * 1000) {%- endmacro %}

{% macro epoch_s_to_utc(expr) -%} {{ epoch_ms_to_utc('(' ~ expr ~ ')::bigint * 1000') }} {%- endmacro %}

{% macro business_date(utc_ts) -%}
    {{ return(adapter.dispatch('business_date')(utc_ts)) }}
{%- endmacro %}
{% macro default__business_date(utc_ts) -%}
    cast(({{ utc_ts }} at time zone 'UTC') at time zone '{{ var("business_timezone") }}' as date)
{%- endmacro %}

{# A local business-time timestamp (e.g. order exports) to UTC. #}
{% macro local_to_utc(local_ts) -%}
    {{ return(adapter.dispatch('local_to_utc')(local_ts)) }}
{%- endmacro %}
{% macro default__local_to_utc(local_ts) -%}
    cast(({{ local_ts }} at time zone '{{ var("business_timezone") }}') at time zone 'UTC' as timestamp)
{%- endmacro %}

{# 00:00 business time of a business date, as UTC. #}
{% macro business_midnight_utc(business_date) -%}
    {{ local_to_utc('cast(' ~ business_date ~ ' as timestamp)') }}
{%- endmacro %}
