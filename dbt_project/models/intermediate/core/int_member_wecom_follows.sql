-- One row per member with a WeCom contact (contracts §4): every staff who added them and their
-- tags (sorted, distinct, without NULLs), and the member's first add — the earliest `createtime`
-- (a missing one sorts last), ties broken by the smaller staff userid — with its staff, add_way
-- and contact-way code (渠道活码 state). dim_member,
-- fct_member_funnel and funnel_dropoffs all read the first add from here.
with follows as (
    select
        members.member_id,
        follows.staff_userid,
        follows.added_at,
        follows.add_way,
        follows.state,
        follows.tag_names
    from {{ ref('stg_wecom__contact_follows') }} as follows
    inner join {{ ref('int_identity_map') }} as members
        on members.identifier = 'external_userid:' || follows.external_userid
),

ranked_adds as (
    select
        member_id, staff_userid, added_at, add_way, state,
        row_number() over (partition by member_id order by added_at nulls last, staff_userid) as add_rank
    from follows
),

first_add as (
    select member_id, staff_userid, added_at, add_way, state
    from ranked_adds
    where add_rank = 1
),

owners as (
    select
        member_id,
        {{ sorted_distinct_agg('staff_userid') }} as staff_owners,
        {{ sorted_distinct_flatten_agg('tag_names') }} as wecom_tags
    from follows
    group by member_id
)

select
    owners.member_id,
    owners.staff_owners,
    owners.wecom_tags,
    first_add.staff_userid as first_staff_userid,
    first_add.added_at as first_added_at,
    first_add.add_way as first_add_way,
    first_add.state as first_contact_state
from owners
inner join first_add on owners.member_id = first_add.member_id
