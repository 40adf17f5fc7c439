{# contracts §4: trim, drop a leading +86 / 0086, keep digits; a phone only if it matches ^1[3-9][0-9]{9}$. #}
{% macro normalize_phone(expr) -%}
    {{ return(adapter.dispatch('normalize_phone')(expr)) }}
{%- endmacro %}
{% macro default__normalize_phone(expr) -%}
    nullif(regexp_extract(
        regexp_replace(regexp_replace(trim({{ expr }}), '^(\+86|0086)', ''), '[^0-9]', '', 'g'),
        '^1[3-9][0-9]{9}$'), '')
{%- endmacro %}
{# Spark: regexp_replace replaces every match (no 'g' flag); '[+]' instead of '\+' because Spark
   string literals unescape backslashes; regexp_extract needs the group index (0: whole match). #}
{% macro spark__normalize_phone(expr) -%}
    nullif(regexp_extract(
        regexp_replace(regexp_replace(trim({{ expr }}), '^([+]86|0086)', ''), '[^0-9]', ''),
        '^1[3-9][0-9]{9}$', 0), '')
{%- endmacro %}

{# HMAC-SHA256 of a normalised phone with the secret SIYU_PII_SALT, as lowercase hex; NULL stays NULL.
   In SQL on both engines (siyu.pii.PII_HASH_DUCKDB_SQL, siyu.pii.PII_HASH_SPARK_SQL), from the
   variables siyu_pii_ipad / siyu_pii_opad (BLOB / BINARY, 64 bytes: the key XOR 0x36… / 0x5c…):
   siyu.dbt_plugin sets them on every DuckDB connection and cursor dbt opens, siyu's Spark runner
   declares them in its session before dbt runs. The salt never appears in SQL text. #}
{% macro hash_phone(expr) -%}
    {{ return(adapter.dispatch('hash_phone')(expr)) }}
{%- endmacro %}
{% macro default__hash_phone(expr) -%}
    sha256(getvariable('siyu_pii_opad') || unhex(sha256(getvariable('siyu_pii_ipad') || encode({{ normalize_phone(expr) }}))))
{%- endmacro %}
{% macro spark__hash_phone(expr) -%}
    sha2(concat(siyu_pii_opad, unhex(sha2(concat(siyu_pii_ipad, encode({{ normalize_phone(expr) }}, 'UTF-8')), 256))), 256)
{%- endmacro %}

{# Stable member id: m_ + first 16 hex digits of SHA-256 of 'kind:value'. #}
{% macro member_id_from(identifier) -%}
    'm_' || left({{ sha256_hex(identifier) }}, 16)
{%- endmacro %}

{# Lowercase hex SHA-256 of a string's UTF-8 bytes. #}
{% macro sha256_hex(expr) -%}
    {{ return(adapter.dispatch('sha256_hex')(expr)) }}
{%- endmacro %}
{% macro default__sha256_hex(expr) -%} sha256({{ expr }}) {%- endmacro %}
{% macro spark__sha256_hex(expr) -%} sha2({{ expr }}, 256) {%- endmacro %}

{# 'wm…'/'wo…' senders are external contacts (members), 'wb…' bots, anything else staff. #}
{% macro sender_kind(expr) -%}
    case when {{ expr }} like 'wm%' or {{ expr }} like 'wo%' then 'member'
         when {{ expr }} like 'wb%' then 'bot'
         else 'staff' end
{%- endmacro %}

{# The identifiers a tracked event carries, `kind:value` (NULL where the event lacks one), in a fixed order. #}
{% macro tracking_identifiers() -%}
    {{ array_of(
        "'distinct_id:' || distinct_id",
        "'unionid:' || unionid",
        "'openid:' || appid || ':' || openid",
        "'external_userid:' || external_userid",
        "'phone:' || phone_hash") }}
{%- endmacro %}

{# The identity record of tracked events carrying `identifiers` (a tracking_identifiers() list):
   events with the same identifiers are one record of the identity graph. JSON keeps the list
   unambiguous (quoted values, null for a missing identifier) before it is hashed. md5 and to_json
   exist with the same output on DuckDB and Spark (the id only joins within one engine's build). #}
{% macro tracking_record_id(identifiers) -%}
    'tracking:' || md5(to_json({{ identifiers }}))
{%- endmacro %}
