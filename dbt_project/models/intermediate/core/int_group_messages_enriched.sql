-- Group messages that count: sent (not recall records) in a group, not recalled later,
-- with the sending member resolved (null for staff and bots).
with messages as (
    select * from {{ ref('stg_wecom__messages') }}
),

recalled as (
    select distinct recalled_msgid as msgid
    from messages
    where action = 'recall' and recalled_msgid is not null
)

select
    messages.msgid,
    messages.group_id,
    messages.sender_id,
    messages.sender_kind,
    members.member_id,
    messages.sent_at,
    messages.business_date,
    messages.msgtype,
    messages.msgtype in ('link', 'weapp') as is_card
from messages
left join recalled on messages.msgid = recalled.msgid
left join {{ ref('int_identity_map') }} as members
    on messages.sender_kind = 'member' and members.identifier = 'external_userid:' || messages.sender_id
where messages.action = 'send'
    and messages.group_id is not null
    and recalled.msgid is null
