{#- Pre-hook for daily incremental models: delete every day of the Dagster partition window
    [var min_date, var max_date) before the insert, so a day re-loaded with no rows ends up
    empty rather than keeping its old rows (delete+insert on its own only replaces the days
    present in the new batch). `date_column` is a DATE, or with as_date_id an integer
    yyyymmdd key (see in_partition_window). Runs in the model's transaction; renders nothing
    on a full build or the first build. -#}
{% macro delete_partition_window(date_column='date_id', as_date_id=true) %}
    {%- if is_incremental() and var('min_date') and var('max_date') -%}
        delete from {{ this }}
        where {{ in_partition_window(date_column, as_date_id) }}
    {%- endif -%}
{% endmacro %}
