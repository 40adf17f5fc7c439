-- Member layer (用户分层) of every member on every business date since they were first seen
-- (contracts §5; windows and thresholds are vars): core > contributor > active > ordinary.
-- Incremental by member (macros/incremental_members.sql): a run computes the members whose
-- inputs changed, over their whole history, and the new dates of all the others.
{{ member_incremental('int_member_layer_inputs') }}

with calendar as (
    select business_date from {{ ref('int_calendar') }}
),

members as (
    select member_id, first_seen_date, input_digest
    from {{ ref('int_member_layer_inputs') }}
),

{% if is_incremental() %}
built as (
    {{ member_rows_built_through() }}
),
{% endif %}

member_dates as (
    -- the member × business dates this run computes: from the first seen date on a full build,
    -- after what the table holds of the member on an incremental one
    select members.member_id, calendar.business_date
    from members
    {%- if is_incremental() %}
    left join built on members.member_id = built.member_id
    {%- endif %}
    inner join calendar on members.first_seen_date <= calendar.business_date
    {%- if is_incremental() %}
    where built.built_through is null or calendar.business_date > built.built_through
    {%- endif %}
),

day_points as (
    -- the days to compute (no activity of their own) and the members' days with activity: a
    -- window over the day number then sums each day's trailing activity
    select member_id, business_date, 0 as messages, 0 as active_signals, true as is_computed
    from member_dates
    union all
    select signals.member_id, signals.business_date, signals.messages, signals.active_signals, false as is_computed
    from {{ ref('int_member_daily_signals') }} as signals
    where signals.member_id in (select member_dates.member_id from member_dates)
),

windowed as (
    select
        member_id,
        business_date,
        is_computed,
        sum(messages) over (partition by member_id order by {{ day_number('business_date') }}
            range between {{ var('layer_contributor_message_window_days') - 1 }} preceding and current row) as messages_window,
        sum(active_signals) over (partition by member_id order by {{ day_number('business_date') }}
            range between {{ var('layer_active_window_days') - 1 }} preceding and current row) as active_signals_window
    from day_points
),

invites_windowed as (
    -- distinct invitees per inviter within each layer's invite window up to the date
    select member_dates.member_id, member_dates.business_date,
        count(distinct case when invites.business_date > member_dates.business_date - {{ var('layer_core_window_days') }}
            then invites.invitee_member_id end) as invitees_core_window,
        count(distinct case when invites.business_date > member_dates.business_date - {{ var('layer_contributor_invite_window_days') }}
            then invites.invitee_member_id end) as invitees_contributor_window
    from member_dates
    inner join {{ ref('int_member_invites') }} as invites
        on member_dates.member_id = invites.inviter_member_id
        and member_dates.business_date >= invites.business_date
        and member_dates.business_date < invites.business_date
            + greatest({{ var('layer_core_window_days') }}, {{ var('layer_contributor_invite_window_days') }})
    group by member_dates.member_id, member_dates.business_date
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
    end as member_layer,
    members.input_digest
from windowed
inner join members on windowed.member_id = members.member_id
left join invites_windowed
    on windowed.member_id = invites_windowed.member_id and windowed.business_date = invites_windowed.business_date
where windowed.is_computed
