-- Attribute changes: one row per changed tracked attribute per movie per day, read from the
-- consecutive versions of gold.dim_movie_history (the day is the new version's valid_from,
-- the first day the new value was observed). A table derived from the history in every run:
-- its size is the number of versions, not of daily fetches.
{% set columns = movie_tracked_columns() %}
with versions as (
    select
        movie_id,
        valid_from,
        version_number,
        {%- for column in columns %}
        {{ column }},
        lag({{ column }}) over by_version as previous_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('dim_movie_history') }}
    window by_version as (partition by movie_id order by version_number)
),

changes as (
    {%- for attribute in movie_tracked_attributes() %}
    select
        movie_id,
        valid_from,
        '{{ attribute["name"] }}' as attribute,
        {{ attribute['text'].replace('{p}', 'previous_') }} as old_value,
        {{ attribute['text'].replace('{p}', '') }} as new_value
    from versions
    where version_number > 1 and {{ attribute_differs(attribute, 'previous_') }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select
    {{ date_id('valid_from') }} as date_id,
    movie_id,
    attribute,
    old_value,
    new_value,
    case
        when old_value is null then 'filled'
        when new_value is null then 'cleared'
        else 'revised'
    end as change_kind
from changes
