-- One row per member entry per group snapshot. Staff entries (type 1) are kept and
-- flagged: they never become members. Display names stay in raw.
{{ incremental_staging('wecom_groups', unique_key='snapshot_date', partition_column='snapshot_date') }}

with snapshots as (
    {{ latest_group_snapshots(source('wecom', 'wecom_groups')) }}
),

entries as (
    select
        chat_id,
        _dt,
        _file,
        _line,
        _loaded_at,
        {{ json_array_elements('group_chat', 'member_list') }} as entry
    from snapshots
),

with_fields as (
    select
        *,
        -- one column per field
        {{ json_field_columns('entry', ['userid', 'type', 'unionid', 'join_time', 'join_scene']) }}
    from entries
)

select
    chat_id as group_id,
    _dt as snapshot_date,
    userid,
    case type when '1' then 'staff' else 'external' end as member_type,
    nullif({{ staging_trim('unionid') }}, '') as unionid,
    {{ epoch_s_to_utc('join_time') }} as joined_at,
    {{ staging_to_integer('join_scene') }} as join_scene,
    nullif({{ json_text('entry', ['invitor', 'userid']) }}, '') as invitor_userid,
    _dt || '/' || _file || ':' || _line || '#' || userid as record_id,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from with_fields
