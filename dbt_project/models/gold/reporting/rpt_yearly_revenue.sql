{{ config(materialized=view_materialization()) }}
-- Report shape for the yearly revenue chart: one row per release year of gold.dim_movie.
with movies as (
    select * from {{ ref('dim_movie') }}
),

released as (
    select
        year(release_date) as release_year,
        revenue_usd
    from movies
    where release_date is not null
)

select
    release_year,
    count(*) as film_count,
    count(revenue_usd) as films_with_revenue,
    coalesce(sum(revenue_usd), 0) as total_revenue_usd
from released
group by release_year
