-- Push reach (触达) per channel and business date: deliveries and opens and the open rate.
-- Grain: business date × channel. Counts every tracked push event, including those whose
-- identities resolve to no member (reach is about the push, not the stitched member), so it
-- reads from stg_tracking__events rather than fct_touchpoint_events.
with pushes as (
    select business_date, channel, event
    from {{ ref('stg_tracking__events') }}
    where event in ('push_delivered', 'push_opened')
),

daily as (
    select
        business_date,
        channel,
        count(case when event = 'push_delivered' then 1 end) as delivered,
        count(case when event = 'push_opened' then 1 end) as opened
    from pushes
    group by business_date, channel
)

select
    business_date,
    channel,
    delivered,
    opened,
    case when delivered > 0 then cast(opened as double) / delivered end as open_rate
from daily
where delivered > 0 or opened > 0
