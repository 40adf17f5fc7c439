-- One row per tracked event. A repeated event_id is the same event: the copy in the
-- earliest partition, then the earliest file and line, wins (contracts §5).
{{ incremental_staging('tracking', unique_key='event_id') }}

with source as (
    {{ keys_to_redecide(source('tracking', 'tracking'), 'tracking', 'event_id') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (partition by event_id order by _dt, _file, _line) = 1
),

with_fields as (
    select
        *,
        {{ json_fields('identities', ['unionid', 'openid', 'appid', 'external_userid', 'phone']) }} as ids,
        {{ json_fields('properties', ['channel', 'touchpoint_id', 'campaign_id', 'staff_id', 'group_id',
                                      'msgid', 'url', 'inviter_id', 'share_from']) }} as props
    from deduplicated
)

select
    event_id,
    event,
    {{ epoch_ms_to_utc('time') }} as event_at,
    {{ business_date(epoch_ms_to_utc('time')) }} as business_date,
    distinct_id,
    nullif(trim(ids.unionid), '') as unionid,
    nullif(trim(ids.openid), '') as openid,
    nullif(trim(ids.appid), '') as appid,
    nullif(trim(ids.external_userid), '') as external_userid,
    {{ hash_phone('ids.phone') }} as phone_hash,
    props.channel,
    nullif(props.touchpoint_id, '') as touchpoint_id,
    nullif(props.campaign_id, '') as campaign_id,
    nullif(props.staff_id, '') as staff_id,
    nullif(props.group_id, '') as group_id,
    nullif(props.msgid, '') as msgid,
    nullif(props.url, '') as url,
    coalesce(nullif(props.inviter_id, ''), nullif(props.share_from, '')) as shared_by,
    _dt as landed_date,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from with_fields
