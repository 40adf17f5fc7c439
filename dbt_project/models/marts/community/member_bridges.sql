-- Bridge members (跨群连接者): members who joined groups of at least two different owners, so
-- they carry word between staff members' communities. Grain: member (bridges only).
with joins as (
    select joins.member_id, joins.group_id, spans.owner_userid, joins.joined_at
    from {{ ref('int_group_joins') }} as joins
    inner join {{ ref('int_group_spans') }} as spans on joins.group_id = spans.group_id
    where joins.member_id is not null
)

select
    member_id,
    count(distinct group_id) as groups_joined,
    count(distinct owner_userid) as owners_joined,
    {{ sorted_distinct_agg('owner_userid') }} as owner_userids,
    min(joined_at) as first_joined_at
from joins
group by member_id
having count(distinct owner_userid) >= 2
