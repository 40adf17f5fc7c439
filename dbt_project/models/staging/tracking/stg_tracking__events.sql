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
)

select
    event_id,
    event,
    {{ epoch_ms_to_utc('time') }} as event_at,
    {{ business_date(epoch_ms_to_utc('time')) }} as business_date,
    distinct_id,
    nullif(trim(identities ->> '$.unionid'), '') as unionid,
    nullif(trim(identities ->> '$.openid'), '') as openid,
    nullif(trim(identities ->> '$.appid'), '') as appid,
    nullif(trim(identities ->> '$.external_userid'), '') as external_userid,
    {{ hash_phone("identities ->> '$.phone'") }} as phone_hash,
    properties ->> '$.channel' as channel,
    nullif(properties ->> '$.touchpoint_id', '') as touchpoint_id,
    nullif(properties ->> '$.campaign_id', '') as campaign_id,
    nullif(properties ->> '$.staff_id', '') as staff_id,
    nullif(properties ->> '$.group_id', '') as group_id,
    nullif(properties ->> '$.msgid', '') as msgid,
    nullif(properties ->> '$.url', '') as url,
    coalesce(nullif(properties ->> '$.inviter_id', ''), nullif(properties ->> '$.share_from', '')) as shared_by,
    _dt as landed_date,
    -- when the record was loaded: the incremental runs' high-water mark
    _loaded_at as loaded_at
from deduplicated
