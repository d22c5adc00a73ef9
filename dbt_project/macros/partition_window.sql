{#- The Dagster partition window [var min_date, var max_date) (ISO dates, end exclusive) as a
    SQL condition on `column`: a DATE, or with as_date_id an integer yyyymmdd key (gold's
    date_id). Renders `true` for a missing bound, so a run without the vars (a full build, the
    weekly full-table tests) covers every day. Used by the daily models' selects, their
    pre-hook and their per-day tests (config `where`), so all three agree on the days. -#}
{% macro in_partition_window(column, as_date_id=false) -%}
    {%- set bounds = [] -%}
    {%- for bound, operator in [(var('min_date'), '>='), (var('max_date'), '<')] if bound -%}
        {%- set literal = (bound | replace('-', '')) if as_date_id else "cast('" ~ bound ~ "' as date)" -%}
        {%- do bounds.append(column ~ ' ' ~ operator ~ ' ' ~ literal) -%}
    {%- endfor -%}
    {{ bounds | join(' and ') if bounds else 'true' }}
{%- endmacro %}
