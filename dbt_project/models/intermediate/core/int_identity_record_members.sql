-- Record -> member: every identifying identifier of a record maps to the same member.
select records.record_id, min(map.member_id) as member_id
from {{ ref('int_identity_records') }} as records
inner join {{ ref('int_identity_map') }} as map on records.identifier = map.identifier
group by records.record_id
