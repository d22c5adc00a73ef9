{#- source() for both engines. DuckDB reads a bronze table through its `external_location`
    (dbt-duckdb); Spark has no such source config, so on Spark a bronze table renders as the
    Parquet folder in its `lake_folder` meta: parquet.`<lake>/bronze/<table>`, partitions
    (partition_date=...) discovered from the folder names. Lineage is unchanged: the
    relation is always resolved through builtins.source. -#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if target.type != 'spark' or not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- for node in graph.get('sources', {}).values() if node.source_name == source_name and node.name == table_name -%}
        {%- set folder = node.meta.get('lake_folder') or node.source_meta.get('lake_folder') -%}
        {%- if folder -%}
            {{ return("parquet.`" ~ folder.replace('{name}', table_name) ~ "`") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(relation) }}
{% endmacro %}
