-- One row per tracked event. A repeated event_id is the same event: the copy in the
-- earliest partition, then the earliest file and line, wins (contracts §5).
-- identity_record_id (an md5 of the event's identifiers) is computed here, once per event as its
-- partition lands, because two models join by it every run: identity stitching groups events into
-- records by it, and the touchpoint events find their member through it (6 s of 16 s at the L scale).
{{ incremental_staging('tracking', unique_key='event_id') }}

with source as (
    {{ keys_to_redecide(source('tracking', 'tracking'), 'tracking', 'event_id') }}
),

deduplicated as (
    {{ one_copy_per_key('source', 'event_id', wins='first') }}
),

with_fields as (
    select
        *,
        -- one column per field
        {{ json_field_columns('identities', ['unionid', 'openid', 'appid', 'external_userid', 'phone']) }},
        {{ json_field_columns('properties', ['channel', 'touchpoint_id', 'campaign_id', 'staff_id', 'group_id',
                                             'msgid', 'url', 'inviter_id', 'share_from']) }}
    from deduplicated
),

typed as (
    select
        event_id,
        event,
        {{ epoch_ms_to_utc('time') }} as event_at,
        {{ business_date(epoch_ms_to_utc('time')) }} as business_date,
        distinct_id,
        nullif({{ staging_trim('unionid') }}, '') as unionid,
        nullif({{ staging_trim('openid') }}, '') as openid,
        nullif({{ staging_trim('appid') }}, '') as appid,
        nullif({{ staging_trim('external_userid') }}, '') as external_userid,
        {{ hash_phone('phone') }} as phone_hash,
        channel,
        nullif(touchpoint_id, '') as touchpoint_id,
        nullif(campaign_id, '') as campaign_id,
        nullif(staff_id, '') as staff_id,
        nullif(group_id, '') as group_id,
        nullif(msgid, '') as msgid,
        nullif(url, '') as url,
        coalesce(nullif(inviter_id, ''), nullif(share_from, '')) as shared_by,
        _dt as landed_date,
        -- when the record was loaded: the incremental runs' high-water mark
        _loaded_at as loaded_at
    from with_fields
)

select
    *,
    {{ tracking_record_id(tracking_identifiers()) }} as identity_record_id
from typed
