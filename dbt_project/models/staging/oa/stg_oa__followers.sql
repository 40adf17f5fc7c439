-- One row per follow / unfollow record of an official-account user (identical re-exports collapse).
with source as (
    select * from {{ source('oa', 'oa_followers') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (
        partition by appid, openid, subscribe, subscribe_time order by _dt, _file, _line) = 1
)

select
    appid,
    openid,
    unionid,
    subscribe = 1 as is_follow,
    {{ epoch_s_to_utc('subscribe_time') }} as subscribed_at,
    subscribe_scene,
    qr_scene_str,
    coalesce(cast(json_extract_string(tagid_list, '$[*]') as varchar[]), []) as tag_ids,
    _dt || '/' || _file || ':' || _line as record_id,
    _dt as landed_date
from deduplicated
