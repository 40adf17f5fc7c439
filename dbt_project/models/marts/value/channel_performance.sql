-- Grain: acquisition month × first-touch channel × first-touch campaign (null campaign =
-- members acquired outside any campaign). Member measures describe the members acquired
-- in the month (business month of first_seen_at, as in cohort_retention) whose first touch
-- (dim_member.first_channel / first_campaign_id) is the row's channel and campaign: their
-- funnel results (fct_member_funnel) and their net GMV to date. Cost is the spend of that
-- campaign in that channel in that month (stg_campaigns__costs), so
-- CAC = cost / new members and ROI = (GMV − cost) / cost on the same row (cost, CAC and
-- ROI are null where no spend is recorded, e.g. organic members). A month with
-- spend but no acquired member (or the reverse) still has a row. cac is the DOUBLE quotient
-- rounded to cents half away from zero (money_from_double: the same cents on DuckDB and Spark).
with members as (
    select
        dim_member.member_id,
        cast({{ dbt.date_trunc('month', business_date('dim_member.first_seen_at')) }} as date) as acquisition_month,
        dim_member.first_channel as channel,
        dim_member.first_campaign_id as campaign_id,
        dim_member.order_count,
        dim_member.net_gmv,
        funnel.lead_at,
        funnel.deal_at
    from {{ ref('dim_member') }} as dim_member
    left join {{ ref('fct_member_funnel') }} as funnel on dim_member.member_id = funnel.member_id
),

acquired as (
    select
        acquisition_month,
        channel,
        campaign_id,
        count(*) as new_members,
        count(lead_at) as lead_members,
        count(deal_at) as deal_members,
        cast(sum(case when order_count > 0 then 1 else 0 end) as bigint) as buyers,
        sum(net_gmv) as net_gmv
    from members
    group by acquisition_month, channel, campaign_id
),

costs as (
    select
        cast({{ dbt.date_trunc('month', 'cost_date') }} as date) as acquisition_month,
        channel,
        campaign_id,
        sum(cost) as cost
    from {{ ref('stg_campaigns__costs') }}
    group by 1, 2, 3  -- noqa: AM06
),

joined as (
    select
        coalesce(acquired.acquisition_month, costs.acquisition_month) as acquisition_month,
        coalesce(acquired.channel, costs.channel) as channel,
        coalesce(acquired.campaign_id, costs.campaign_id) as campaign_id,
        coalesce(acquired.new_members, 0) as new_members,
        coalesce(acquired.lead_members, 0) as lead_members,
        coalesce(acquired.deal_members, 0) as deal_members,
        coalesce(acquired.buyers, 0) as buyers,
        coalesce(acquired.net_gmv, 0) as net_gmv,
        costs.cost
    from acquired
    full outer join costs
        on acquired.acquisition_month = costs.acquisition_month
        and acquired.channel = costs.channel
        and acquired.campaign_id = costs.campaign_id
)

select
    acquisition_month,
    channel,
    campaign_id,
    new_members,
    lead_members,
    deal_members,
    buyers,
    cast(net_gmv as decimal(18, 2)) as net_gmv,
    cast(cost as decimal(18, 2)) as cost,
    {{ money_from_double('cast(cost as double) / nullif(new_members, 0)') }} as cac,
    cast(cost as double) / nullif(new_members, 0) as cac_exact,
    (cast(net_gmv as double) - cast(cost as double)) / nullif(cast(cost as double), 0) as roi,
    cast(lead_members as double) / nullif(new_members, 0) as lead_rate,
    cast(deal_members as double) / nullif(new_members, 0) as deal_rate
from joined
