{#- source() for both engines. DuckDB reads a bronze table through its `external_location`
    (dbt-duckdb); Spark has no such source config, so on Spark a bronze table renders as the
    Parquet folder in its `lake_folder` meta: parquet.`<lake>/bronze/<table>`, partitions
    (partition_date=...) discovered from the folder names. Lineage is unchanged: the
    relation is always resolved through builtins.source. -#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {#- A unit test's fixture input is a CTE: used as it is on both engines. -#}
    {%- if target.type != 'spark' or not execute or relation.is_cte -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources.get('source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name) -%}
    {%- set folder = node.meta.get('lake_folder') if node else none -%}
    {%- if not folder -%}
        {{ exceptions.raise_compiler_error("source('" ~ source_name ~ "', '" ~ table_name ~ "') has no meta lake_folder: the Spark engine reads bronze only from the lake") }}
    {%- endif -%}
    {{ return("parquet.`" ~ folder.replace('{name}', table_name) ~ "`") }}
{% endmacro %}
