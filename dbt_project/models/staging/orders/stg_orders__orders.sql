-- Latest state of each order: the greatest updated_at wins, ties go to the later partition
-- (then file, line). Export times are business-local and become UTC here.
{{ incremental_staging('orders', unique_key='order_no') }}

with source as (
    {{ keys_to_redecide(source('orders', 'orders'), 'orders', 'order_no') }}
),

latest as (
    {{ one_copy_per_key('source', 'order_no', wins='last', prefer='updated_at desc') }}
)

select
    order_no,
    status,
    {{ local_to_utc('created_at') }} as created_at,
    {{ local_to_utc('paid_at') }} as paid_at,
    {{ local_to_utc('updated_at') }} as updated_at,
    paid_at is not null as is_paid,
    {{ hash_phone('buyer_phone') }} as buyer_phone_hash,
    buyer_openid,
    buyer_appid,
    buyer_unionid,
    platform,
    store_id,
    guide_userid,
    group_id,
    campaign_id,
    total_amount,
    discount_amount,
    paid_amount,
    refund_amount,
    cast(case when paid_at is not null then paid_amount - refund_amount else 0 end as decimal(18, 2)) as net_gmv,
    {{ json_array_length_at('items') }} as item_lines,
    _dt as landed_date,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from latest
