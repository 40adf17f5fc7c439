-- One row per contact-state record (every version is kept: each links identifiers).
-- Names and remarks stay in raw; remark_mobiles are normalised and hashed.
{{ incremental_staging('wecom_contacts', unique_key='landed_date') }}

with source as (
    {{ partitions_to_derive(source('wecom', 'wecom_contacts'), 'wecom_contacts') }}
)

select
    _dt || '/' || _file || ':' || _line as record_id,
    external_userid,
    nullif({{ staging_trim(json_text('external_contact', 'unionid')) }}, '') as unionid,
    {{ staging_to_integer(json_text('external_contact', 'type')) }} as contact_type,
    {{ staging_to_integer(json_text('external_contact', 'gender')) }} as gender,
    {{ staging_hash_phones(json_nested_string_list('follow_user', 'remark_mobiles')) }} as remark_mobile_hashes,
    -- earliest createtime in the record: when the contact was first seen by any staff member
    {{ epoch_s_to_utc(json_min_bigint('follow_user', 'createtime')) }} as first_added_at,
    _dt as landed_date,
    _file as landed_file,
    _line as landed_line,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from source
