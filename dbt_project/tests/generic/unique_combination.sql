{% test unique_combination(model, columns) %}
{# Grain test: no two rows share the combination (nulls compared as equal). #}
select {{ columns | join(', ') }}, count(*) as copies
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
