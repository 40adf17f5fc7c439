{#- JSON access of the staging models, one macro per shape. `default__` is DuckDB's SQL (JSON type,
  `->>`, `json_transform`, JSONPath wildcards); `spark__` reads the same JSON text with
  `get_json_object` / `from_json` and gives the same answers (docs/spark-port/research.md §2.1).

  What both engines agree on (probed on DuckDB 2.0 and Spark 4.0.5): numbers come back as their
  JSON text (1.50 → '1.5', 1e2 → '100.0', big integers unchanged), strings unescaped (\u4e2d → 中),
  booleans 'true'/'false', nested objects/arrays as compact JSON text, JSON null and a missing key
  as NULL. One difference cannot be closed in Spark SQL: a key repeated inside one object. DuckDB
  takes the first copy; Spark's get_json_object takes the first copy that is not JSON null (its
  from_json/json_tuple take the last). So `{"k": null, "k": "x"}` is NULL on DuckDB, 'x' on Spark.
  The loader quarantines repeated keys at the top level and in identities, properties,
  external_contact and group_chat, and requires a non-null first userid/type/join_time/createtime
  in list entries, so only the unchecked fields of list entries (member_list: unionid,
  join_scene, invitor; follow_user: add_way, state, tags, remark_mobiles) and of a message's
  revoke/link objects can show it. -#}

{#- Named fields of a JSON object as text, read in one parse of the document.

  `json_fields('properties', ['channel', 'url'])` is a struct: `.channel` equals
  `properties ->> '$.channel'` for every value (strings, numbers, booleans, nested JSON, null,
  absent key, repeated key: the first wins) — but `->>` parses the whole document again for each
  field, which made `stg_tracking__events` (14 fields over 2.6 M events at scale M) JSON-bound.
  DuckDB only: models use `json_field_columns`. -#}
{% macro json_fields(column, fields) -%}
    json_transform({{ column }}, '{ {%- for field in fields -%} "{{ field }}": "VARCHAR"{{ ", " if not loop.last }}{%- endfor -%} }')
{%- endmacro %}

{#- The named fields of a JSON object as select-list columns of the same names (text). -#}
{% macro json_field_columns(column, fields) -%}
    {{ return(adapter.dispatch('json_field_columns')(column, fields)) }}
{%- endmacro %}
{% macro default__json_field_columns(column, fields) -%}
    unnest({{ json_fields(column, fields) }})
{%- endmacro %}
{% macro spark__json_field_columns(column, fields) -%}
    {%- for field in fields -%}
    get_json_object({{ column }}, '$.{{ field }}') as {{ field }}{{ ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- One field as text: `json_text('entry', 'userid')`, or a path of object keys as a list:
    `json_text('message', ['link', 'link_url'])`. -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}
{% macro default__json_text(column, path) -%}
    {{ column }} ->> '{{ json_path(path) }}'
{%- endmacro %}
{% macro spark__json_text(column, path) -%}
    get_json_object({{ column }}, '{{ json_path(path) }}')
{%- endmacro %}

{#- '$.a' for 'a', '$.a.b' for ['a', 'b']. -#}
{% macro json_path(keys) -%}
    $.{{ keys if keys is string else keys | join('.') }}
{%- endmacro %}

{#- Spark: the elements of the JSON array held in `column` (in its key `key`), each as JSON text; NULL
    when that value is missing, JSON null or not an array (a string holding array text included). -#}
{% macro spark__json_array_at(column, key=none) -%}
    {%- if key is none -%}
    from_json({{ column }}, 'array<string>')
    {%- else -%}
    case when from_json({{ column }}, 'struct<{{ key }}:array<string>>').{{ key }} is not null
        then from_json(get_json_object({{ column }}, '$.{{ key }}'), 'array<string>') end
    {%- endif -%}
{%- endmacro %}

{#- Number of elements of a JSON array (the column, or its key `key`): NULL if there is no such value,
    0 for JSON null or a value that is not an array (DuckDB's json_array_length). DuckDB types it
    UBIGINT; Spark has no unsigned type, so bigint there. -#}
{% macro json_array_length_at(column, key=none) -%}
    {{ return(adapter.dispatch('json_array_length_at')(column, key)) }}
{%- endmacro %}
{% macro default__json_array_length_at(column, key) -%}
    {%- if key is none -%}
    json_array_length({{ column }})
    {%- else -%}
    json_array_length({{ column }} -> '$.{{ key }}')
    {%- endif -%}
{%- endmacro %}
{% macro spark__json_array_length_at(column, key) -%}
    {%- if key is none -%}
    cast(case when {{ column }} is not null then coalesce(json_array_length({{ column }}), 0) end as bigint)
    {%- else -%}
    cast(case when array_contains(json_object_keys({{ column }}), '{{ key }}')
        then coalesce(array_size({{ spark__json_array_at(column, key) }}), 0) end as bigint)
    {%- endif -%}
{%- endmacro %}

{#- The elements of a JSON array (the column, or its key `key`) as rows: a select-list expression,
    one output row per element (JSON), none for a missing, null, empty or non-array value. -#}
{% macro json_array_elements(column, key=none) -%}
    {{ return(adapter.dispatch('json_array_elements')(column, key)) }}
{%- endmacro %}
{% macro default__json_array_elements(column, key) -%}
    unnest(cast(json_extract({{ column }}, '{{ "$[*]" if key is none else "$." ~ key ~ "[*]" }}') as json[]))
{%- endmacro %}
{% macro spark__json_array_elements(column, key) -%}
    explode({{ spark__json_array_at(column, key) }})
{%- endmacro %}

{#- A JSON array as a list of text: the elements of `column` (its key `key`, if given), or each
    element's `field` (elements without that key are skipped; JSON null gives NULL). [] when there
    is nothing. -#}
{% macro json_string_list(column, key=none, field=none) -%}
    {{ return(adapter.dispatch('json_string_list')(column, key, field)) }}
{%- endmacro %}
{% macro default__json_string_list(column, key, field) -%}
    {%- set path = ("$" if key is none else "$." ~ key) ~ "[*]" ~ ("" if field is none else "." ~ field) -%}
    coalesce(cast(json_extract_string({{ column }}, '{{ path }}') as varchar[]), [])
{%- endmacro %}
{% macro spark__json_string_list(column, key, field) -%}
    coalesce(
        {%- if field is none %}
        {{ spark__json_array_at(column, key) }},
        {%- else %}
        transform(
            filter({{ spark__json_array_at(column, key) }}, element -> array_contains(json_object_keys(element), '{{ field }}')),
            element -> get_json_object(element, '$.{{ field }}')),
        {%- endif %}
        cast(array() as array<string>))
{%- endmacro %}

{#- The elements of the arrays under `key` of every object in the JSON array `column`, as one list
    of text ('$[*].key[*]'); [] when there is nothing. -#}
{% macro json_nested_string_list(column, key) -%}
    {{ return(adapter.dispatch('json_nested_string_list')(column, key)) }}
{%- endmacro %}
{% macro default__json_nested_string_list(column, key) -%}
    coalesce(cast(json_extract_string({{ column }}, '$[*].{{ key }}[*]') as varchar[]), [])
{%- endmacro %}
{% macro spark__json_nested_string_list(column, key) -%}
    flatten(transform(
        coalesce(from_json({{ column }}, 'array<string>'), cast(array() as array<string>)),
        element -> coalesce({{ spark__json_array_at('element', key) }}, cast(array() as array<string>))))
{%- endmacro %}

{#- The least integer `key` of the objects in the JSON array `column` ('$[*].key'); NULL if none. -#}
{% macro json_min_bigint(column, key) -%}
    {{ return(adapter.dispatch('json_min_bigint')(column, key)) }}
{%- endmacro %}
{% macro default__json_min_bigint(column, key) -%}
    list_min(cast(json_extract_string({{ column }}, '$[*].{{ key }}') as bigint[]))
{%- endmacro %}
{% macro spark__json_min_bigint(column, key) -%}
    array_min(transform(from_json({{ column }}, 'array<string>'), element -> cast(get_json_object(element, '$.{{ key }}') as bigint)))
{%- endmacro %}
