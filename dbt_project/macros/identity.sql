{# contracts §4: trim, drop a leading +86 / 0086, keep digits; a phone only if it matches ^1[3-9][0-9]{9}$. #}
{% macro normalize_phone(expr) -%}
    nullif(regexp_extract(
        regexp_replace(regexp_replace(trim({{ expr }}), '^(\+86|0086)', ''), '[^0-9]', '', 'g'),
        '^1[3-9][0-9]{9}$'), '')
{%- endmacro %}

{# HMAC-SHA256 of a normalised phone with the secret SIYU_PII_SALT (function registered by dagster_project.dbt_functions). #}
{% macro hash_phone(expr) -%}
    pii_hash({{ normalize_phone(expr) }})
{%- endmacro %}

{# Stable member id: m_ + first 16 hex digits of SHA-256 of 'kind:value'. #}
{% macro member_id_from(identifier) -%}
    'm_' || left(sha256({{ identifier }}), 16)
{%- endmacro %}

{# 'wm…'/'wo…' senders are external contacts (members), 'wb…' bots, anything else staff. #}
{% macro sender_kind(expr) -%}
    case when {{ expr }} like 'wm%' or {{ expr }} like 'wo%' then 'member'
         when {{ expr }} like 'wb%' then 'bot'
         else 'staff' end
{%- endmacro %}

{# The identifiers a tracked event carries, `kind:value` (NULL where the event lacks one), in a fixed order. #}
{% macro tracking_identifiers() -%}
    list_value(
        'distinct_id:' || distinct_id,
        'unionid:' || unionid,
        'openid:' || appid || ':' || openid,
        'external_userid:' || external_userid,
        'phone:' || phone_hash)
{%- endmacro %}

{# The identity record of tracked events carrying `identifiers` (a tracking_identifiers() list):
   events with the same identifiers are one record of the identity graph. JSON keeps the list
   unambiguous (quoted values, null for a missing identifier) before it is hashed. #}
{% macro tracking_record_id(identifiers) -%}
    'tracking:' || md5(to_json({{ identifiers }}))
{%- endmacro %}
