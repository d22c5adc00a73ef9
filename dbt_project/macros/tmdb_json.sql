{#- TMDB v3 reports an unknown budget, revenue or runtime as 0: read such a field of the
    movie JSON in `payload` as `type`, with 0 as NULL. -#}
{% macro tmdb_unknown_zero_to_null(payload, field, type='bigint') -%}
    nullif(cast({{ payload }} ->> '$.{{ field }}' as {{ type }}), 0)
{%- endmacro %}
