{#- Pre-hook for daily incremental models: delete every day of the Dagster partition window
    [var min_date, var max_date) before the insert, so a day re-loaded with no rows ends up
    empty rather than keeping its old rows (delete+insert on its own only replaces the days
    present in the new batch). Without the window vars the model selects every day, so every
    row is deleted first: an incremental run without a window is an exact rebuild, even of
    days that have since lost all their rows. `date_column` is a DATE, or with as_date_id an
    integer yyyymmdd key (see in_partition_window). Runs in the model's transaction; renders
    nothing on a full refresh or the first build. -#}
{% macro delete_partition_window(date_column='date_id', as_date_id=true) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ in_partition_window(date_column, as_date_id) }}
    {%- endif -%}
{% endmacro %}
