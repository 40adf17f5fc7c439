-- Grain: one paid order × one eligible touchpoint. It is the shared input of every
-- attribution model (contracts §5): the buyer's touchpoint events of any stage except
-- `order_paid` with paid_at − var('attribution_lookback_days') <= event_at < paid_at,
-- ordered by (event_at, event_id), with the time-decay weight 2^(−Δt / half-life).
-- Orders without a member or without an eligible touchpoint have no row here (direct).
with paid_orders as (
    select
        order_no,
        member_id,
        paid_at,
        net_gmv,
        {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'), 'paid_at') }} as lookback_starts_at
    from {{ ref('fct_orders') }}
    where is_paid and member_id is not null
),

touchpoints as (
    select event_id, member_id, event, stage, channel, campaign_id, touchpoint_id, event_at
    from {{ ref('fct_touchpoint_events') }}
    where event <> 'order_paid'
),

eligible as (
    select
        paid_orders.order_no,
        paid_orders.member_id,
        paid_orders.paid_at,
        paid_orders.net_gmv,
        touchpoints.event_id,
        touchpoints.event,
        touchpoints.stage,
        touchpoints.channel,
        touchpoints.campaign_id,
        touchpoints.touchpoint_id,
        touchpoints.event_at,
        {{ dbt.datediff('touchpoints.event_at', 'paid_orders.paid_at', 'millisecond') }} as ms_before_paid
    from paid_orders
    inner join touchpoints
        on paid_orders.member_id = touchpoints.member_id
        and paid_orders.lookback_starts_at <= touchpoints.event_at
        and paid_orders.paid_at > touchpoints.event_at
),

weighted as (
    select
        eligible.*,
        count(*) over (partition by eligible.order_no) as touchpoints_in_window,
        row_number() over (partition by eligible.order_no order by eligible.event_at, eligible.event_id) as touch_sequence,
        power(2.0, -(cast(eligible.ms_before_paid as double) / 86400000.0) / {{ var('attribution_half_life_days') }}) as decay_weight
    from eligible
)

select
    weighted.*,
    weighted.decay_weight / sum(weighted.decay_weight) over (partition by weighted.order_no) as decay_credit
from weighted
