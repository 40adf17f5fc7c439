-- One row per contact-state record (every version is kept: each links identifiers).
-- Names and remarks stay in raw; remark_mobiles are normalised and hashed.
{{ incremental_staging('wecom_contacts', unique_key='landed_date') }}

with source as (
    {{ partitions_to_derive(source('wecom', 'wecom_contacts'), 'wecom_contacts') }}
)

select
    _dt || '/' || _file || ':' || _line as record_id,
    external_userid,
    nullif(trim(external_contact ->> '$.unionid'), '') as unionid,
    try_cast(external_contact ->> '$.type' as integer) as contact_type,
    try_cast(external_contact ->> '$.gender' as integer) as gender,
    list_filter(
        list_transform(
            coalesce(cast(json_extract_string(follow_user, '$[*].remark_mobiles[*]') as varchar[]), []),
            lambda phone: {{ hash_phone('phone') }}),
        lambda h: h is not null) as remark_mobile_hashes,
    -- earliest createtime in the record: when the contact was first seen by any staff member
    {{ epoch_s_to_utc("list_min(cast(json_extract_string(follow_user, '$[*].createtime') as bigint[]))") }} as first_added_at,
    _dt as landed_date,
    _file as landed_file,
    _line as landed_line,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from source
