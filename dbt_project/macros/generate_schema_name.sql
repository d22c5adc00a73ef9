{#- Models build into exactly the schema they name (silver, gold), not dbt's default
    "<target schema>_<custom schema>", so notebooks and reports can rely on the names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
