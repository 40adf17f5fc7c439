-- One row per (contact, staff member who added them): the follow_user entries of the
-- contact's latest state record (greatest partition, then file and line).
with source as (
    select * from {{ source('wecom', 'wecom_contacts') }}
),

follow_entries as (
    select
        source.external_userid,
        source._dt,
        source._file,
        source._line,
        unnest(cast(json_extract(source.follow_user, '$[*]') as json[])) as entry
    from source
),

latest as (
    select *
    from follow_entries
    qualify row_number() over (
        partition by external_userid, entry ->> '$.userid'
        order by _dt desc, _file desc, _line desc) = 1
)

select
    external_userid,
    entry ->> '$.userid' as staff_userid,
    {{ epoch_s_to_utc("entry ->> '$.createtime'") }} as added_at,
    try_cast(entry ->> '$.add_way' as integer) as add_way,
    nullif(entry ->> '$.state', '') as state,
    coalesce(cast(json_extract_string(entry, '$.tags[*].tag_name') as varchar[]), []) as tag_names,
    _dt as landed_date
from latest
