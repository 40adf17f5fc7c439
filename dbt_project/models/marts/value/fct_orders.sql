-- Latest state of every order (contracts §3): net GMV = paid amount - refunds for paid orders.
-- An order whose buyer carries no identifying identifier keeps a null member_id (unresolved).
with orders as (
    select * from {{ ref('stg_orders__orders') }}
),

buyers as (
    select record_id, member_id from {{ ref('int_identity_record_members') }}
    where record_id like 'order:%'
)

select
    orders.order_no,
    buyers.member_id,
    orders.status,
    orders.is_paid,
    orders.created_at,
    orders.paid_at,
    orders.updated_at,
    {{ business_date('orders.paid_at') }} as paid_date,
    orders.platform,
    orders.store_id,
    orders.guide_userid,
    orders.group_id,
    orders.campaign_id,
    orders.total_amount,
    orders.discount_amount,
    orders.paid_amount,
    orders.refund_amount,
    orders.net_gmv,
    case when orders.is_paid and buyers.member_id is not null then
        -- bigint: row_number is INT on Spark
        cast(row_number() over (partition by buyers.member_id, orders.is_paid order by orders.paid_at nulls last, orders.order_no)
            as bigint)
    end as paid_order_number
from orders
left join buyers on buyers.record_id = 'order:' || orders.order_no
