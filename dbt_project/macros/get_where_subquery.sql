{#- dbt's `where` config of tests, with one placeholder: dbt renders a test's config when it
    parses, where project macros are not available, so a daily table's per-day tests say
    `where: "__in_partition_window__(<column>)"` (or `(<column>, as_date_id)` for a yyyymmdd
    key) and this override, which dbt calls when the test runs, renders in_partition_window
    for that column. Without a partition window the test reads the whole table (no subquery).
    Any other `where` is applied as dbt does. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set window = modules.re.fullmatch('__in_partition_window__\(\s*(\w+)\s*(,\s*as_date_id\s*)?\)', where or '') -%}
    {%- if window -%}
        {%- set where = in_partition_window(window.group(1), as_date_id=window.group(2) is not none) | trim -%}
    {%- endif -%}
    {%- if where and where != 'true' -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
