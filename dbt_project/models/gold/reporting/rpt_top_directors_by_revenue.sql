{{ config(materialized=view_materialization()) }}
-- Report shape for the top-directors bar chart: the KPI top_director_by_revenue of
-- gold.kpi_summary (so chart and KPI sheet show the same ranking), with each director's film
-- count for the bar labels.
with ranked as (
    select * from {{ ref('kpi_summary') }}
    where kpi = 'top_director_by_revenue'
),

films as (
    select
        crew.person_id,
        count(distinct crew.movie_id) as films_with_revenue
    from {{ ref('bridge_movie_crew') }} as crew
    inner join {{ ref('dim_movie') }} as movies on crew.movie_id = movies.movie_id
    where crew.job = 'Director' and movies.revenue_usd is not null
    group by crew.person_id
)

select
    ranked.rank,
    ranked.subject_id as person_id,
    ranked.subject_name as director_name,
    ranked.value as total_revenue_usd,
    films.films_with_revenue,
    ranked.movies_with_credits,
    ranked.movies_total
from ranked
inner join films on ranked.subject_id = films.person_id
