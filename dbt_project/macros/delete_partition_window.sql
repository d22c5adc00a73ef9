{#- daily_incremental_config(date_column='date_id', day_type='date_id'): the config of a daily
    incremental model, partitioned by `date_column` and rebuilt per Dagster partition window
    [window_min_date(), window_max_date()), for `config(materialized='incremental', **...)`.
    day_type: 'date_id' when date_column holds yyyymmdd integers, 'date' for a DATE column.

    Returns a dict of incremental_strategy, its key (DuckDB unique_key, Spark partition_by),
    pre_hook (delete_partition_window) and on_schema_change 'append_new_columns': a column
    added to the model reaches a warehouse built before it without a full refresh (NULL on
    the days typed before; --full-refresh fills them). Why: the two engines replace days differently:
    DuckDB deletes then inserts the run's days; Spark overwrites the Parquet partitions the
    run writes (insert_overwrite, dynamic). Either way a day of the window that now has no
    rows would keep its old rows, so the pre-hook empties the whole window first. -#}
{% macro daily_incremental_config(date_column='date_id', day_type='date_id') -%}
    {%- set pre_hook = "{{ delete_partition_window('" ~ date_column ~ "', '" ~ day_type ~ "') }}" -%}
    {%- if target.type == 'spark' -%}
        {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [date_column], 'pre_hook': pre_hook,
                   'on_schema_change': 'append_new_columns'}) }}
    {%- else -%}
        {{ return({'incremental_strategy': 'delete+insert', 'unique_key': date_column, 'pre_hook': pre_hook,
                   'on_schema_change': 'append_new_columns'}) }}
    {%- endif -%}
{%- endmacro %}


{#- delete_partition_window(date_column='date_id', day_type='date_id'): pre-hook of daily
    incremental models: one statement emptying every day of the Dagster partition window
    [window_min_date(), window_max_date()) in {{ this }}, so a day re-loaded with no rows ends up empty
    rather than keeping its old rows (delete+insert or insert_overwrite alone only replace
    the days present in the new batch). Without a partition window the model selects every day,
    so every row goes first: an incremental run without a window is an exact rebuild, even
    of days that have since lost all their rows. day_type as in daily_incremental_config.
    Renders nothing on a full refresh, the first build or an empty window. -#}
{% macro delete_partition_window(date_column='date_id', day_type='date_id') -%}
    {%- if is_incremental() -%}
        {%- do check_partition_window() -%}
        {%- set days = partition_window_days() if window_min_date() else none -%}
        {%- if days is none or days -%}
            {{ return(adapter.dispatch('delete_partition_window', 'movies')(date_column, day_type, days)) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- DuckDB: a delete in the model's transaction (every row when `days` is none). -#}
{% macro default__delete_partition_window(date_column, day_type, days) -%}
    delete from {{ this }}
    where {{ in_partition_window(date_column, as_date_id=(day_type == 'date_id')) }}
{%- endmacro %}

{#- Spark: a Parquet table deletes no rows; drop the window's partitions instead, all in one
    statement (a day without a partition is skipped), or truncate it when `days` is none. -#}
{% macro spark__delete_partition_window(date_column, day_type, days) -%}
    {%- if days is none -%}
        truncate table {{ this }}
    {%- else -%}
    alter table {{ this }} drop if exists
    {%- for day in days %}
        partition ({{ date_column }} = {{ day.strftime('%Y%m%d') if day_type == 'date_id' else "'" ~ day.isoformat() ~ "'" }}){{ ',' if not loop.last }}
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}


{#- partition_window_days(): every day of [window_min_date(), window_max_date()) as a Python date,
    oldest first; empty when the end is not after the start. -#}
{% macro partition_window_days() -%}
    {%- set first_day = modules.datetime.date.fromisoformat(window_min_date()) -%}
    {%- set end_day = modules.datetime.date.fromisoformat(window_max_date()) -%}
    {%- set days = [] -%}
    {%- for offset in range((end_day - first_day).days) -%}
        {%- do days.append(first_day + modules.datetime.timedelta(days=offset)) -%}
    {%- endfor -%}
    {{ return(days) }}
{%- endmacro %}
