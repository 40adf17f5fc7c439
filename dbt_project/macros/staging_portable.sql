{#- Small engine differences of the staging models: `default__` is DuckDB's SQL, `spark__` gives the
    same answers on Spark 4 (docs/spark-port/research.md). -#}

{#- trim() of DuckDB strips the Unicode space separators (category Zs: ' ', U+00A0, U+3000 …), not
    tabs or line breaks; Spark's trim() strips only ' '. -#}
{% macro staging_trim(expr) -%}
    {{ return(adapter.dispatch('staging_trim')(expr)) }}
{%- endmacro %}
{% macro default__staging_trim(expr) -%}
    trim({{ expr }})
{%- endmacro %}
{% macro spark__staging_trim(expr) -%}
    regexp_replace({{ expr }}, '^\\p{Zs}+|\\p{Zs}+$', '')
{%- endmacro %}

{#- Text to integer, NULL when it is not one. DuckDB's try_cast accepts surrounding whitespace, a
    sign, decimals and exponents (rounded half away from zero: '1.5' → 2, '1e2' → 100) and NULL
    outside the integer range; Spark's try_cast rejects decimals, so Spark rounds the double. Not
    reproduced: DuckDB's hex/binary/underscore literals ('0x10', '1_000') and decimals beyond a
    double's 17 digits. -#}
{% macro staging_to_integer(expr) -%}
    {{ return(adapter.dispatch('staging_to_integer')(expr)) }}
{%- endmacro %}
{% macro default__staging_to_integer(expr) -%}
    try_cast({{ expr }} as integer)
{%- endmacro %}
{% macro spark__staging_to_integer(expr) -%}
    case when regexp_replace({{ expr }}, '^\\s+|\\s+$', '') rlike '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'
        then try_cast(round(cast(regexp_replace({{ expr }}, '^\\s+|\\s+$', '') as double)) as integer) end
{%- endmacro %}

{#- The phones of a list, hashed (hash_phone), without the ones that are no phone. -#}
{% macro staging_hash_phones(phones) -%}
    {{ return(adapter.dispatch('staging_hash_phones')(phones)) }}
{%- endmacro %}
{% macro default__staging_hash_phones(phones) -%}
    list_filter(
        list_transform(
            {{ phones }},
            lambda phone: {{ hash_phone('phone') }}),
        lambda h: h is not null)
{%- endmacro %}
{% macro spark__staging_hash_phones(phones) -%}
    filter(transform({{ phones }}, phone -> {{ hash_phone('phone') }}), h -> h is not null)
{%- endmacro %}

{#- An identifier that is a keyword (the raw messages' `from`), quoted for the engine. -#}
{% macro staging_quote(identifier) -%}
    {%- if adapter.quote is defined -%}
    {{ adapter.quote(identifier) }}
    {%- else -%}
    "{{ identifier }}"
    {%- endif -%}
{%- endmacro %}
