-- Spend per campaign, channel and day; a re-sent day replaces the earlier figure.
with source as (
    select * from {{ source('campaigns', 'campaign_costs') }}
)

select
    dt as cost_date,
    campaign_id,
    channel,
    cost
from source
qualify row_number() over (partition by dt, campaign_id, channel order by _dt desc, _file desc, _line desc) = 1
