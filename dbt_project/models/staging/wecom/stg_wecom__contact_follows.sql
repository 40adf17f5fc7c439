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
        {{ json_array_elements('source.follow_user') }} as entry
    from source
),

latest as (
    {{ one_copy_per_key('follow_entries', "external_userid, " ~ json_text('entry', 'userid'), wins='last') }}
)

select
    external_userid,
    {{ json_text('entry', 'userid') }} as staff_userid,
    {{ epoch_s_to_utc(json_text('entry', 'createtime')) }} as added_at,
    {{ staging_to_integer(json_text('entry', 'add_way')) }} as add_way,
    nullif({{ json_text('entry', 'state') }}, '') as state,
    {{ json_string_list('entry', 'tags', 'tag_name') }} as tag_names,
    _dt as landed_date
from latest
