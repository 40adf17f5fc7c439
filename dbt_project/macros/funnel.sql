{# Stage counts and conversion rates of a group of fct_member_funnel rows (one row per member).
   Shared by funnel_daily and funnel_conversion_weekly so both marts define rates the same way. #}
{% macro funnel_stage_counts() -%}
    count(*) as exposure_members,
    count(interest_at) as interest_members,
    count(lead_at) as lead_members,
    count(deal_at) as deal_members,
    cast(count(interest_at) as double) / count(*) as interest_rate,
    cast(count(lead_at) as double) / nullif(count(interest_at), 0) as lead_rate,
    cast(count(deal_at) as double) / nullif(count(lead_at), 0) as deal_rate,
    cast(count(deal_at) as double) / count(*) as overall_conversion_rate
{%- endmacro %}
