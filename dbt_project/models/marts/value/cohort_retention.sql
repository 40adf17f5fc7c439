-- Grain: acquisition month (cohort_month) × months since acquisition (contracts §5). A member's
-- acquisition month is the business-date month of first_seen_at; every cohort has a row for
-- months_since = 0 .. (latest business month − cohort month), even when nobody was active.
-- Activity is by business date: touchpoint events (event_at) and paid orders (paid_at).
-- cumulative_net_gmv_per_member is the DOUBLE quotient rounded to cents half away from zero
-- (money_from_double: the same cents on DuckDB and Spark).
with members as (
    select
        member_id,
        cast({{ dbt.date_trunc('month', business_date('first_seen_at')) }} as date) as cohort_month
    from {{ ref('int_member_first_seen') }}
),

latest as (
    select cast({{ dbt.date_trunc('month', 'max(latest_business_date)') }} as date) as latest_month
    from {{ ref('int_calendar') }}
),

cohorts as (
    select cohort_month, count(*) as cohort_members
    from members
    group by cohort_month
),

cohort_months as (
    select
        cohorts.cohort_month,
        cohorts.cohort_members,
        offsets.months_since,
        cast({{ dbt.dateadd('month', 'offsets.months_since', 'cohorts.cohort_month') }} as date) as activity_month
    from cohorts
    cross join latest
    cross join (
        select cast(generated_number - 1 as bigint) as months_since
        from ({{ dbt.generate_series(1200) }}) as series
    ) as offsets
    where offsets.months_since <= {{ dbt.datediff('cohorts.cohort_month', 'latest.latest_month', 'month') }}
),

paid_orders as (
    select member_id, net_gmv, cast({{ dbt.date_trunc('month', 'paid_date') }} as date) as paid_month, paid_order_number
    from {{ ref('fct_orders') }}
    where is_paid and member_id is not null
),

activity as (
    select distinct member_id, cast({{ dbt.date_trunc('month', 'business_date') }} as date) as activity_month
    from {{ ref('fct_touchpoint_events') }}
    union
    select member_id, paid_month from paid_orders
),

retained as (
    select members.cohort_month, activity.activity_month, count(distinct members.member_id) as retained_members
    from activity
    inner join members on activity.member_id = members.member_id
    group by members.cohort_month, activity.activity_month
),

second_orders as (
    -- the month in which each member became a repeat buyer (their second paid order)
    select members.cohort_month, paid_orders.paid_month, count(*) as new_repeat_buyers
    from paid_orders
    inner join members on paid_orders.member_id = members.member_id
    where paid_orders.paid_order_number = 2
    group by members.cohort_month, paid_orders.paid_month
),

gmv as (
    select members.cohort_month, paid_orders.paid_month, sum(paid_orders.net_gmv) as net_gmv
    from paid_orders
    inner join members on paid_orders.member_id = members.member_id
    group by members.cohort_month, paid_orders.paid_month
),

cumulative as (
    select
        cohort_months.cohort_month,
        cohort_months.months_since,
        cast(coalesce(sum(second_orders.new_repeat_buyers), 0) as bigint) as repeat_buyers
    from cohort_months
    left join second_orders
        on cohort_months.cohort_month = second_orders.cohort_month
        and cohort_months.activity_month >= second_orders.paid_month
    group by cohort_months.cohort_month, cohort_months.months_since
),

cumulative_gmv as (
    select
        cohort_months.cohort_month,
        cohort_months.months_since,
        coalesce(sum(gmv.net_gmv), 0) as cumulative_net_gmv
    from cohort_months
    left join gmv
        on cohort_months.cohort_month = gmv.cohort_month
        and cohort_months.activity_month >= gmv.paid_month
    group by cohort_months.cohort_month, cohort_months.months_since
)

select
    cohort_months.cohort_month,
    cohort_months.months_since,
    cohort_months.activity_month,
    cohort_months.cohort_members,
    coalesce(retained.retained_members, 0) as retained_members,
    cast(coalesce(retained.retained_members, 0) as double) / cohort_months.cohort_members as retention_rate,
    cumulative.repeat_buyers,
    cast(cumulative.repeat_buyers as double) / cohort_months.cohort_members as repeat_buyer_rate,
    cast(cumulative_gmv.cumulative_net_gmv as decimal(18, 2)) as cumulative_net_gmv,
    {{ money_from_double('cast(cumulative_gmv.cumulative_net_gmv as double) / cohort_months.cohort_members') }}
        as cumulative_net_gmv_per_member
from cohort_months
left join retained
    on cohort_months.cohort_month = retained.cohort_month
    and cohort_months.activity_month = retained.activity_month
inner join cumulative
    on cohort_months.cohort_month = cumulative.cohort_month
    and cohort_months.months_since = cumulative.months_since
inner join cumulative_gmv
    on cohort_months.cohort_month = cumulative_gmv.cohort_month
    and cohort_months.months_since = cumulative_gmv.months_since
