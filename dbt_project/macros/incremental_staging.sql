{#-
  Incremental staging (contracts §8): a run re-derives only what landed since the model last ran.

  `raw._load_log` (written by the raw assets) holds one row per loaded landing partition with
  the time it was loaded. A partition loaded after the newest `loaded_at` a staging model holds
  is *changed*: new, corrected, re-delivered or emptied. Two shapes of model:

  * one row per record of a partition (snapshots, contact states): the pre-hook deletes the
    model's rows of changed partitions and the run inserts what those partitions hold now
    (`delete+insert` on the partition column);
  * one row per key across partitions (an event id whose first copy wins, an order whose latest
    state wins): the pre-hook deletes the rows that came from changed partitions, and the run
    re-decides every key that occurs in a changed partition or lost its row to that delete,
    over all copies of the key in raw (`delete+insert` on the key).

  Either way the result equals a full rebuild; a larger set of changed partitions (the newest
  loaded_at can only be over-estimated as older) costs time, never correctness.
  `siyu build --full-refresh` and a change of the dbt project rebuild them whole.
-#}

{#- The config every incremental staging model shares: delete+insert on `unique_key`, a failed run
    rather than a silently changed column set, and the pre-hook that drops the rows of changed
    partitions (`partition_column` holds the landing partition day of each row). -#}
{#- On Spark (parquet tables: no DELETE, no delete+insert) every staging model is a full rebuild:
    materialized='table', no pre-hook; is_incremental() is then false, so the macros below read all
    of raw. -#}
{% macro incremental_staging(raw_source, unique_key, partition_column='landed_date') -%}
    {%- if target is defined and target.type == 'spark' -%}
    {{ config(materialized='table') }}
    {%- else -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=unique_key,
        on_schema_change='fail',
        pre_hook="{{ delete_changed_partitions('" ~ raw_source ~ "', '" ~ partition_column ~ "') }}"
    ) }}
    {%- endif -%}
{%- endmacro %}

{% macro load_log() -%}
    {{ api.Relation.create(database=this.database, schema='raw', identifier='_load_log') }}
{%- endmacro %}

{# Landing partitions of `raw_source` loaded since this model's newest row (an empty model: all of
   them; the sentinel is a real timestamp because Spark turns '-infinity' into NULL). #}
{% macro changed_partitions(raw_source) -%}
    select dt from {{ load_log() }}
    where source = '{{ raw_source }}'
      and loaded_at > (select coalesce(max(loaded_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }})
{%- endmacro %}

{# Pre-hook: remove the rows that came from changed partitions (no-op on a full build). #}
{% macro delete_changed_partitions(raw_source, partition_column) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ partition_column }} in ({{ changed_partitions(raw_source) }})
    {%- endif -%}
{%- endmacro %}

{# Raw rows a partition-shaped model must (re)derive: all on a full build, else the changed partitions'. #}
{% macro partitions_to_derive(source_relation, raw_source) -%}
    select * from {{ source_relation }}
    {%- if is_incremental() %}
    where _dt in ({{ changed_partitions(raw_source) }})
    {%- endif %}
{%- endmacro %}

{#- Raw rows a key-shaped model must (re)decide: all on a full build, else every copy of each key
    seen in a changed partition or no longer in the model (its row was deleted by the pre-hook). -#}
{% macro keys_to_redecide(source_relation, raw_source, key) -%}
    select * from {{ source_relation }}
    {%- if is_incremental() %}
    where {{ key }} in (
        select {{ key }} from {{ source_relation }} where _dt in ({{ changed_partitions(raw_source) }})
        union all
        select {{ key }} from (
            select {{ key }} from {{ source_relation }}
            anti join {{ this }} using ({{ key }})
        )
    )
    {%- endif %}
{%- endmacro %}

{#- The last snapshot of each group on each landing day (a day re-exported keeps its latest copy),
    from the partitions to derive: what both group staging models are built from. -#}
{% macro latest_group_snapshots(source_relation) -%}
    select chat_id, owner, create_time, group_chat, _dt, _file, _line, _loaded_at
    from (
        select
            *,
            row_number() over (partition by chat_id, _dt order by _file desc, _line desc) as row_num
        from ({{ partitions_to_derive(source_relation, 'wecom_groups') }}) as derived
    ) as numbered
    where row_num = 1
{%- endmacro %}
