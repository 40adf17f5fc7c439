{#-
  One row per key when a landing delivers a key more than once (re-sent days, re-exported
  snapshots, repeated events): which copy wins is a rule of contracts §5, written here once.

  `wins` is 'first' (the earliest landed copy: partition, then file, then line; a repeated event
  id or msgid keeps its first copy) or 'last' (the latest landed copy: a re-sent day or a newer
  state replaces the earlier one). `prefer` orders before that, e.g. 'updated_at desc' for an
  order whose greatest updated_at wins whatever partition it came in.
  `relation` is a CTE's name or a relation; the result holds its columns plus `copy_rank` (1).
-#}
{% macro one_copy_per_key(relation, key, wins='first', prefer=none) -%}
    {%- if wins == 'first' -%}
        {%- set landed = '_dt nulls last, _file nulls last, _line nulls last' -%}
    {%- elif wins == 'last' -%}
        {%- set landed = '_dt desc, _file desc, _line desc' -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("one_copy_per_key: wins must be 'first' or 'last', not " ~ wins) }}
    {%- endif -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by {{ prefer ~ ', ' if prefer else '' }}{{ landed }}) as copy_rank
        from {{ relation }}
    ) as copies
    where copy_rank = 1
{%- endmacro %}
