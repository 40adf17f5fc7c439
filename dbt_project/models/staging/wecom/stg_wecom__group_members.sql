-- One row per member entry per group snapshot. Staff entries (type 1) are kept and
-- flagged: they never become members. Display names stay in raw.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='snapshot_date',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_partitions('wecom_groups', 'snapshot_date') }}"
    )
}}

with source as (
    {{ partitions_to_derive(source('wecom', 'wecom_groups'), 'wecom_groups') }}
),

snapshots as (
    select *
    from source
    qualify row_number() over (partition by chat_id, _dt order by _file desc, _line desc) = 1
),

entries as (
    select
        chat_id,
        _dt,
        _file,
        _line,
        _loaded_at,
        unnest(cast(json_extract(group_chat, '$.member_list[*]') as json[])) as entry
    from snapshots
)

select
    chat_id as group_id,
    _dt as snapshot_date,
    entry ->> '$.userid' as userid,
    case (entry ->> '$.type') when '1' then 'staff' else 'external' end as member_type,
    nullif(trim(entry ->> '$.unionid'), '') as unionid,
    {{ epoch_s_to_utc("entry ->> '$.join_time'") }} as joined_at,
    try_cast(entry ->> '$.join_scene' as integer) as join_scene,
    nullif(entry ->> '$.invitor.userid', '') as invitor_userid,
    _dt || '/' || _file || ':' || _line || '#' || (entry ->> '$.userid') as record_id,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from entries
