-- Spend per campaign, channel and day; a re-sent day replaces the earlier figure.
with source as (
    select * from {{ source('campaigns', 'campaign_costs') }}
),

numbered as (
    select
        dt,
        campaign_id,
        channel,
        cost,
        row_number() over (partition by dt, campaign_id, channel order by _dt desc, _file desc, _line desc) as row_num
    from source
)

select
    dt as cost_date,
    campaign_id,
    channel,
    cost
from numbered
where row_num = 1
