-- One row per follow / unfollow record of an official-account user (identical re-exports collapse).
with source as (
    select * from {{ source('oa', 'oa_followers') }}
),

deduplicated as (
    {{ one_copy_per_key('source', 'appid, openid, subscribe, subscribe_time', wins='first') }}
)

select
    appid,
    openid,
    unionid,
    subscribe = 1 as is_follow,
    {{ epoch_s_to_utc('subscribe_time') }} as subscribed_at,
    subscribe_scene,
    qr_scene_str,
    {{ json_string_list('tagid_list') }} as tag_ids,
    _dt || '/' || _file || ':' || _line as record_id,
    _dt as landed_date
from deduplicated
