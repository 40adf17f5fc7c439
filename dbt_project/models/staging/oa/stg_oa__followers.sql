-- One row per follow / unfollow record of an official-account user (identical re-exports collapse).
with source as (
    select * from {{ source('oa', 'oa_followers') }}
),

numbered as (
    select
        *,
        row_number() over (
            partition by appid, openid, subscribe, subscribe_time
            order by _dt nulls last, _file nulls last, _line nulls last) as row_num
    from source
),

deduplicated as (
    select * from numbered where row_num = 1
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
