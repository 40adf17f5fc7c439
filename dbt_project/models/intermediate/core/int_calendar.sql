-- Business dates from the earliest to the latest date any source speaks of. The latest is
-- "D", the as-of date of member layers and lifecycle stages.
with bounds as (
    select min(business_date) as first_date, max(business_date) as last_date
    from (
        select business_date from {{ ref('int_touchpoint_events') }}
        union all
        select business_date from {{ ref('stg_wecom__messages') }}
        union all
        select snapshot_date from {{ ref('stg_wecom__groups') }}
        union all
        select {{ business_date('created_at') }} from {{ ref('stg_orders__orders') }}
    ) as dates
)

select
    {{ date_series('first_date', 'last_date') }} as business_date,
    last_date as latest_business_date
from bounds
where first_date is not null
