-- The activity behind member layers, per member and business date: group messages sent, and
-- "active" signals (interest-or-later events and group messages). Only days with activity.
-- Ephemeral: read once by int_member_layer_inputs and once by int_member_layers_daily, cheaper
-- computed twice than written and tested as a table.
{{ config(materialized='ephemeral') }}

with signals as (
    select member_id, business_date, 0 as messages, count(*) as active_signals
    from {{ ref('fct_touchpoint_events') }}
    where stage in ('interest', 'lead', 'deal')
    group by member_id, business_date
    union all
    select member_id, business_date, count(*) as messages, count(*) as active_signals
    from {{ ref('int_group_messages_enriched') }}
    where member_id is not null
    group by member_id, business_date
)

select member_id, business_date, sum(messages) as messages, sum(active_signals) as active_signals
from signals
group by member_id, business_date
