-- Members per layer per business date: the pyramid ordinary → active → contributor → core over time.
select business_date, member_layer, count(*) as members
from {{ ref('int_member_layers_daily') }}
group by business_date, member_layer
