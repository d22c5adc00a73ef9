{#- For gold.kpi_summary (which has a `movies` CTE): a CTE named `kpi` holding the top_n
    movies matching `where` ordered by `order_by` (movie_id breaks ties, so ranks are
    unique), reporting `value_sql` as `metric` in `unit`. Ends with a comma. -#}
{% macro kpi_movie_ranking(kpi, where, order_by, value_sql, metric, unit, top_n) %}
{{ kpi }} as (
    select
        '{{ kpi }}' as kpi,
        row_number() over (order by {{ order_by }}, movie_id) as rank,
        'movie' as subject_type,
        movie_id as subject_id,
        title as subject_name,
        '{{ metric }}' as metric,
        cast({{ value_sql }} as double) as value,
        '{{ unit }}' as unit
    from movies
    where {{ where }}
    qualify rank <= {{ top_n }}
),
{%- endmacro %}
