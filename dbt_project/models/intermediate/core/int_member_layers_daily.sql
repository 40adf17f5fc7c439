-- Member layer (用户分层) of every member on every business date since they were first seen
-- (contracts §5; windows and thresholds are vars): core > contributor > active > ordinary.
with calendar as (
    select business_date from {{ ref('int_calendar') }}
),

members as (
    select member_id, {{ business_date('first_seen_at') }} as first_seen_date
    from {{ ref('int_member_first_seen') }}
),

daily_signals as (
    select member_id, business_date, 0 as messages, count(*) as active_signals
    from {{ ref('fct_touchpoint_events') }}
    where stage in ('interest', 'lead', 'deal')
    group by member_id, business_date
    union all
    select member_id, business_date, count(*) as messages, count(*) as active_signals
    from {{ ref('int_group_messages_enriched') }}
    where member_id is not null
    group by member_id, business_date
),

daily as (
    select member_id, business_date, sum(messages) as messages, sum(active_signals) as active_signals
    from daily_signals
    group by member_id, business_date
),

member_days as (
    select members.member_id, calendar.business_date,
        coalesce(daily.messages, 0) as messages,
        coalesce(daily.active_signals, 0) as active_signals
    from members
    inner join calendar on members.first_seen_date <= calendar.business_date
    left join daily on members.member_id = daily.member_id and calendar.business_date = daily.business_date
),

windowed as (
    select
        member_id,
        business_date,
        sum(messages) over (partition by member_id order by business_date
            rows between {{ var('layer_contributor_message_window_days') - 1 }} preceding and current row) as messages_window,
        sum(active_signals) over (partition by member_id order by business_date
            rows between {{ var('layer_active_window_days') - 1 }} preceding and current row) as active_signals_window
    from member_days
),

invites_windowed as (
    -- distinct invitees per inviter within each layer's invite window up to the date
    select invites.inviter_member_id as member_id, calendar.business_date,
        count(distinct case when invites.business_date > calendar.business_date - {{ var('layer_core_window_days') }}
            then invites.invitee_member_id end) as invitees_core_window,
        count(distinct case when invites.business_date > calendar.business_date - {{ var('layer_contributor_invite_window_days') }}
            then invites.invitee_member_id end) as invitees_contributor_window
    from {{ ref('int_member_invites') }} as invites
    inner join calendar
        on invites.business_date <= calendar.business_date
        and invites.business_date > calendar.business_date
            - greatest({{ var('layer_core_window_days') }}, {{ var('layer_contributor_invite_window_days') }})
    group by invites.inviter_member_id, calendar.business_date
)

select
    windowed.member_id,
    windowed.business_date,
    windowed.messages_window as group_messages_recent,
    coalesce(invites_windowed.invitees_core_window, 0) as invitees_recent,
    case
        when coalesce(invites_windowed.invitees_core_window, 0) >= {{ var('layer_core_min_invites') }} then 'core'
        when windowed.messages_window >= {{ var('layer_contributor_min_messages') }}
            or coalesce(invites_windowed.invitees_contributor_window, 0) >= 1 then 'contributor'
        when windowed.active_signals_window > 0 then 'active'
        else 'ordinary'
    end as member_layer
from windowed
left join invites_windowed
    on windowed.member_id = invites_windowed.member_id and windowed.business_date = invites_windowed.business_date
