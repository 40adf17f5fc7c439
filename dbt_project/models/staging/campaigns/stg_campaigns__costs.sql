-- Spend per campaign, channel and day; a re-sent day replaces the earlier figure.
with source as (
    select * from {{ source('campaigns', 'campaign_costs') }}
),

latest as (
    {{ one_copy_per_key('source', 'dt, campaign_id, channel', wins='last') }}
)

select
    dt as cost_date,
    campaign_id,
    channel,
    cost
from latest
