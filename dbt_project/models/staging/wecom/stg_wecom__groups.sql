-- One row per group per snapshot day (the partition day is the snapshot's business date).
{{ incremental_staging('wecom_groups', unique_key='snapshot_date', partition_column='snapshot_date') }}

with snapshots as (
    {{ latest_group_snapshots(source('wecom', 'wecom_groups')) }}
)

select
    chat_id as group_id,
    _dt as snapshot_date,
    owner as owner_userid,
    {{ epoch_s_to_utc('create_time') }} as created_at,
    {{ business_date(epoch_s_to_utc('create_time')) }} as created_date,
    {{ json_array_length_at('group_chat', 'member_list') }} as member_entries,
    {{ json_array_length_at('group_chat', 'admin_list') }} as admins,
    {{ json_text('group_chat', 'name') }} as group_name,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from snapshots
