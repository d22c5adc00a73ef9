{#- Same contract as dbt_utils.unique_combination_of_columns (dbt packages cannot be
    installed offline): fails with one row per combination of the columns that occurs
    more than once, so a composite primary key can be tested for uniqueness. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
