-- One row per group per snapshot day (the partition day is the snapshot's business date).
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
)

select
    chat_id as group_id,
    _dt as snapshot_date,
    owner as owner_userid,
    {{ epoch_s_to_utc('create_time') }} as created_at,
    {{ business_date(epoch_s_to_utc('create_time')) }} as created_date,
    json_array_length(group_chat -> '$.member_list') as member_entries,
    json_array_length(group_chat -> '$.admin_list') as admins,
    group_chat ->> '$.name' as group_name,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from snapshots
