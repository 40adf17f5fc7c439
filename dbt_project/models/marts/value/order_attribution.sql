-- Grain: one paid order × attribution model × credited touchpoint (contracts §5).
-- first_touch / last_touch: one row, the first / last eligible touchpoint in
-- (event_at, event_id) order, credit 1. linear: every eligible touchpoint, credit 1/n.
-- time_decay: every eligible touchpoint, 2^(−Δt / half-life) normalised to sum 1.
-- A paid order with no eligible touchpoint — including an order whose buyer is unresolved
-- (null member_id, no touchpoints) — gets one row per model with channel 'direct' and a
-- null event_id, so every model's credited_gmv sums to the total paid net GMV.
-- credited_gmv is DECIMAL(18,2), rounded by largest remainder so that, per order and model,
-- it sums exactly to the order's net GMV; credited_gmv_exact keeps credit × net GMV as double.
with touches as (
    select * from {{ ref('int_attribution_touchpoints') }}
),

paid_orders as (
    select order_no, member_id, paid_at, net_gmv
    from {{ ref('fct_orders') }}
    where is_paid
),

models as (
    select 'first_touch' as model
    union all
    select 'last_touch'
    union all
    select 'linear'
    union all
    select 'time_decay'
),

credited as (
    select
        touches.order_no,
        touches.member_id,
        models.model,
        touches.event_id,
        touches.event,
        touches.stage,
        touches.channel,
        touches.campaign_id,
        touches.touchpoint_id,
        touches.event_at,
        touches.ms_before_paid,
        touches.touch_sequence,
        touches.touchpoints_in_window,
        touches.paid_at,
        touches.net_gmv,
        case models.model
            when 'first_touch' then 1.0
            when 'last_touch' then 1.0
            when 'linear' then cast(1 as double) / touches.touchpoints_in_window
            else touches.decay_credit
        end as credit
    from touches
    inner join models
        on models.model in ('linear', 'time_decay')
        or (models.model = 'first_touch' and touches.touch_sequence = 1)
        or (models.model = 'last_touch' and touches.touch_sequence = touches.touchpoints_in_window)
),

direct as (
    select
        paid_orders.order_no,
        paid_orders.member_id,
        models.model,
        cast(null as string) as event_id,
        cast(null as string) as event,
        cast(null as string) as stage,
        'direct' as channel,
        cast(null as string) as campaign_id,
        cast(null as string) as touchpoint_id,
        cast(null as timestamp) as event_at,
        cast(null as bigint) as ms_before_paid,
        cast(null as bigint) as touch_sequence,
        cast(0 as bigint) as touchpoints_in_window,
        paid_orders.paid_at,
        paid_orders.net_gmv,
        1.0 as credit
    from paid_orders
    cross join models
    where not exists (select 1 from touches where touches.order_no = paid_orders.order_no)
),

all_credits as (
    select * from credited
    union all
    select * from direct
),

cents as (
    -- largest-remainder rounding to cents: floor every share, then hand the missing cents
    -- to the rows with the largest remainders (ties: earlier touch, then event_id)
    select
        all_credits.*,
        {{ round_double('cast(all_credits.credit as double) * cast(all_credits.net_gmv * 100 as double)', 6) }} as exact_cents,
        floor({{ round_double('cast(all_credits.credit as double) * cast(all_credits.net_gmv * 100 as double)', 6) }})
            as floor_cents,
        cast(round(all_credits.net_gmv * 100, 0) as bigint) as order_cents
    from all_credits
),

ranked as (
    select
        cents.*,
        cents.order_cents - sum(cents.floor_cents) over (partition by cents.order_no, cents.model) as missing_cents,
        row_number() over (
            partition by cents.order_no, cents.model
            order by cents.exact_cents - cents.floor_cents desc, cents.touch_sequence asc nulls last, cents.event_id asc nulls last)
            as remainder_rank
    from cents
)

select
    order_no,
    member_id,
    model,
    event_id,
    event,
    stage,
    channel,
    campaign_id,
    touchpoint_id,
    event_at,
    cast(ms_before_paid / 1000.0 as double) as seconds_before_paid,
    touch_sequence,
    touchpoints_in_window,
    cast(credit as double) as credit,
    cast((floor_cents + case when remainder_rank <= missing_cents then 1 else 0 end) / 100.0 as decimal(18, 2)) as credited_gmv,
    cast(credit as double) * cast(net_gmv as double) as credited_gmv_exact,
    net_gmv as order_net_gmv,
    paid_at,
    {{ business_date('paid_at') }} as paid_date
from ranked
