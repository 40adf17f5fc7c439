{% test not_null_columns(model, columns) %}
{{ config(fail_calc = 'coalesce(sum(failing_rows), 0)') }}
{# Every listed column is filled — one scan of the model instead of one not_null test per column.
   A failure says which columns are null and in how many rows. #}
select
    concat_ws(', '
        {%- for column in columns %}, case when {{ column }} is null then '{{ column }}' end{% endfor %}
    ) as null_columns,
    count(*) as failing_rows
from {{ model }}
where
    {% for column in columns %}{{ column }} is null{{ " or " if not loop.last }}{% endfor %}
group by 1
{% endtest %}
