{#- A dimension from an exploded silver model: one row per `key`, then each of `attributes`
    (column names) as its most frequent value among the rows with that key, ties going to
    the value sorting first.

    Returns a select of `key` then `attributes`, from `relation`. Why: TMDB can spell one
    id's name differently across movies, and a dimension needs exactly one, the same one on
    every build. -#}
{% macro mode_dimension(relation, key, attributes) %}
select
    {{ key }},
    {%- for attribute in attributes %}
    {{ mode_first(attribute) }} as {{ attribute }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ relation }}
group by {{ key }}
{% endmacro %}
