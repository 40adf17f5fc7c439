{#- Named fields of a JSON object as text, read in one parse of the document.

  `json_fields('properties', ['channel', 'url'])` is a struct: `.channel` equals
  `properties ->> '$.channel'` for every value (strings, numbers, booleans, nested JSON, null,
  absent key, repeated key: the first wins) — but `->>` parses the whole document again for each
  field, which made `stg_tracking__events` (14 fields over 2.6 M events at scale M) JSON-bound. -#}
{% macro json_fields(column, fields) -%}
    json_transform({{ column }}, '{ {%- for field in fields -%} "{{ field }}": "VARCHAR"{{ ", " if not loop.last }}{%- endfor -%} }')
{%- endmacro %}
