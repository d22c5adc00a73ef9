{#- Pre-hook for daily incremental models keyed by date_id (yyyymmdd): delete every day of
    the Dagster partition window [var min_date, var max_date) before the insert, so a day
    re-loaded with no rows ends up empty rather than keeping its old rows (delete+insert on
    its own only replaces the days present in the new batch). Runs in the model's
    transaction; renders nothing on a full build or the first build. -#}
{% macro delete_partition_window(date_column='date_id') %}
    {%- if is_incremental() and var('min_date') and var('max_date') -%}
        delete from {{ this }}
        where {{ date_column }} >= {{ var('min_date') | replace('-', '') }}
          and {{ date_column }} < {{ var('max_date') | replace('-', '') }}
    {%- endif -%}
{% endmacro %}
