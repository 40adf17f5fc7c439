{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_oa__followers'}}}) }}
-- Official-account follower appids missing from seeds/wechat_apps.csv (contracts §5): their follows
-- get channel oa_unknown. Add the appid to the seed with its account type to fix the channel.
select
    followers.appid,
    count(*) as follower_records,
    min(followers.subscribed_at) as first_subscribed_at,
    max(followers.subscribed_at) as last_subscribed_at
from {{ ref('stg_oa__followers') }} as followers
left join {{ ref('wechat_apps') }} as apps on followers.appid = apps.appid
where apps.appid is null
group by followers.appid
