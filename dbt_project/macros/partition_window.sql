{#- The Dagster partition window [var min_date, var max_date) (ISO dates, end exclusive) as a
    SQL condition on `column`: a DATE, or with as_date_id an integer yyyymmdd key (gold's
    date_id). Renders `true` without the vars, so a run without them (a full build, the
    weekly full-table tests) covers every day. Used by the daily models' selects, their
    pre-hook and their per-day tests (config `where`), so all three agree on the days. -#}
{% macro in_partition_window(column, as_date_id=false) -%}
    {%- do check_partition_window() -%}
    {%- set bounds = [] -%}
    {%- for bound, operator in [(var('min_date'), '>='), (var('max_date'), '<')] if bound -%}
        {%- set literal = (bound | replace('-', '')) if as_date_id else "cast('" ~ bound ~ "' as date)" -%}
        {%- do bounds.append(column ~ ' ' ~ operator ~ ' ' ~ literal) -%}
    {%- endfor -%}
    {{ bounds | join(' and ') if bounds else 'true' }}
{%- endmacro %}


{#- check_partition_window(): raises a compiler error when only one of the vars min_date and
    max_date is given. Why: with one bound the engines would disagree on the days to replace
    (a DuckDB delete of one side against a Spark truncate of the whole table). -#}
{% macro check_partition_window() -%}
    {%- if (not var('min_date')) != (not var('max_date')) -%}
        {{ exceptions.raise_compiler_error("the partition window needs both vars min_date and max_date, or neither (got min_date=" ~ var('min_date') ~ ", max_date=" ~ var('max_date') ~ ")") }}
    {%- endif -%}
{%- endmacro %}
