-- One row per member entry per group snapshot. Staff entries (type 1) are kept and
-- flagged: they never become members. Display names stay in raw.
with source as (
    select * from {{ source('wecom', 'wecom_groups') }}
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
    _dt || '/' || _file || ':' || _line || '#' || (entry ->> '$.userid') as record_id
from entries
