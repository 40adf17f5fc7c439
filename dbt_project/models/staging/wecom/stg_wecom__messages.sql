-- One row per session-archive message; a repeated msgid keeps its first copy. Message
-- text stays in raw: only the type, the link URL and the recalled id come through.
{{ incremental_staging('wecom_messages', unique_key='msgid') }}

with source as (
    {{ keys_to_redecide(source('wecom', 'wecom_messages'), 'wecom_messages', 'msgid') }}
),

deduplicated as (
    {{ one_copy_per_key('source', 'msgid', wins='first') }}
)

select
    msgid,
    action,
    {{ staging_quote('from') }} as sender_id,
    {{ sender_kind(staging_quote('from')) }} as sender_kind,
    roomid as group_id,
    {{ epoch_ms_to_utc('msgtime') }} as sent_at,
    {{ business_date(epoch_ms_to_utc('msgtime')) }} as business_date,
    msgtype,
    nullif({{ json_text('message', ['revoke', 'pre_msgid']) }}, '') as recalled_msgid,
    nullif({{ json_text('message', ['link', 'link_url']) }}, '') as link_url,
    _dt as landed_date,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from deduplicated
