-- One row per customer group (社群) per business date, from its creation date (or its first
-- snapshot, if later) to its dissolution date (inclusive) or the latest business date.
-- Grain: group × business date — the daily health sheet: size, inflow and outflow, chat,
-- effective activity (link clickers, orders) and the lifecycle stage (contracts §5).
with days as (
    select * from {{ ref('int_group_days') }}
    where business_date >= first_row_date
)

select
    group_id,
    business_date,
    age_days,
    has_snapshot,
    members_end,
    joins,
    joins_invited,
    joins_link,
    joins_qr,
    leaves,
    member_messages,
    member_speakers,
    staff_messages,
    cards_posted,
    link_clickers,
    orders,
    net_gmv,
    member_messages_7d,
    member_messages_prior_7d,
    member_messages_30d,
    lifecycle_stage
from days
