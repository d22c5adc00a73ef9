{#- window_min_date(), window_max_date(): the Dagster partition window [min, max) of the run
    (ISO dates, end exclusive), or none when the run has no partition window (a full build, the
    weekly full-table tests, dbt run by hand), which covers every day. Why environment
    variables (MOVIES_WINDOW_MIN_DATE, MOVIES_WINDOW_MAX_DATE, set by
    movie_assets/transform/project.py) and not --vars: dbt discards its whole partial-parse
    state when --vars change, a full re-parse of the project in every daily run, while a
    changed env_var only re-parses the files that read it (bench/README.md, "Partition
    window"). -#}
{% macro window_min_date() -%}
    {{ return(env_var('MOVIES_WINDOW_MIN_DATE', '') or none) }}
{%- endmacro %}

{% macro window_max_date() -%}
    {{ return(env_var('MOVIES_WINDOW_MAX_DATE', '') or none) }}
{%- endmacro %}


{#- The partition window [window_min_date(), window_max_date()) as a SQL condition on
    `column`: a DATE, or with as_date_id an integer yyyymmdd key (gold's date_id). Renders
    `true` without a window, so a run without one covers every day. Used by the daily models'
    selects, their pre-hook and their per-day tests (config `where`), so all three agree on
    the days. -#}
{% macro in_partition_window(column, as_date_id=false) -%}
    {%- do check_partition_window() -%}
    {%- set bounds = [] -%}
    {%- for bound, operator in [(window_min_date(), '>='), (window_max_date(), '<')] if bound -%}
        {%- set literal = (bound | replace('-', '')) if as_date_id else "cast('" ~ bound ~ "' as date)" -%}
        {%- do bounds.append(column ~ ' ' ~ operator ~ ' ' ~ literal) -%}
    {%- endfor -%}
    {{ bounds | join(' and ') if bounds else 'true' }}
{%- endmacro %}


{#- check_partition_window(): raises a compiler error when only one bound of the window is
    given. Why: with one bound the engines would disagree on the days to replace (a DuckDB
    delete of one side against a Spark truncate of the whole table). -#}
{% macro check_partition_window() -%}
    {%- if (not window_min_date()) != (not window_max_date()) -%}
        {{ exceptions.raise_compiler_error("the partition window needs both MOVIES_WINDOW_MIN_DATE and MOVIES_WINDOW_MAX_DATE, or neither (got " ~ window_min_date() ~ ", " ~ window_max_date() ~ ")") }}
    {%- endif -%}
{%- endmacro %}
