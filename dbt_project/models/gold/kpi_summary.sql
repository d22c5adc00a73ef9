-- Headline KPIs in one long table: one row per (kpi, rank, metric). Thresholds are dbt vars
-- (kpi_top_n, kpi_min_budget_usd, kpi_min_vote_count, kpi_min_director_films,
-- kpi_min_collection_films); see kpi_summary.yml for why one long table.
{%- set top_n = var('kpi_top_n') %}

with movies as (
    select
        *,
        -- popularity is only comparable within one snapshot day (TMDB rescales it)
        last_snapshot_date = max(last_snapshot_date) over () as is_current
    from {{ ref('dim_movie') }}
),

directors as (
    select * from {{ ref('tmdb_movie_directors') }}
),

{{ kpi_movie_ranking('highest_revenue', 'revenue_usd is not null', 'revenue_usd desc', 'revenue_usd', 'revenue_usd', 'USD', top_n) }}
{{ kpi_movie_ranking('highest_budget', 'budget_usd is not null', 'budget_usd desc', 'budget_usd', 'budget_usd', 'USD', top_n) }}
{{ kpi_movie_ranking('highest_profit', 'profit_usd is not null', 'profit_usd desc', 'profit_usd', 'profit_usd', 'USD', top_n) }}
{{ kpi_movie_ranking('highest_roi', 'roi is not null and budget_usd >= ' ~ var('kpi_min_budget_usd'), 'roi desc', 'roi', 'roi', 'ratio', top_n) }}
{{ kpi_movie_ranking('lowest_roi', 'roi is not null and budget_usd >= ' ~ var('kpi_min_budget_usd'), 'roi asc', 'roi', 'roi', 'ratio', top_n) }}
{{ kpi_movie_ranking('highest_rated', 'vote_average is not null and vote_count >= ' ~ var('kpi_min_vote_count'), 'vote_average desc, vote_count desc', 'vote_average', 'vote_average', 'score_0_10', top_n) }}
{{ kpi_movie_ranking('lowest_rated', 'vote_average is not null and vote_count >= ' ~ var('kpi_min_vote_count'), 'vote_average asc, vote_count desc', 'vote_average', 'vote_average', 'score_0_10', top_n) }}
{{ kpi_movie_ranking('most_popular', 'popularity is not null and is_current', 'popularity desc', 'popularity', 'popularity', 'tmdb_popularity', top_n) }}

director_films as (
    select
        directors.person_id,
        directors.person_name,
        count(*) as films,
        sum(movies.revenue_usd) as total_revenue_usd,
        count(movies.revenue_usd) as films_with_revenue,
        avg(movies.vote_average) filter (
            where movies.vote_count >= {{ var('kpi_min_vote_count') }}
        ) as mean_vote_average
    from directors
    inner join movies on directors.movie_id = movies.movie_id
    group by directors.person_id, directors.person_name
    having count(*) >= {{ var('kpi_min_director_films') }}
),

top_director_by_revenue as (
    select
        'top_director_by_revenue' as kpi,
        row_number() over (order by total_revenue_usd desc, person_id) as rank,
        'director' as subject_type,
        person_id as subject_id,
        person_name as subject_name,
        'total_revenue_usd' as metric,
        cast(total_revenue_usd as double) as value,
        'USD' as unit
    from director_films
    where films_with_revenue > 0
    qualify rank <= {{ top_n }}
),

top_director_by_rating as (
    select
        'top_director_by_rating' as kpi,
        row_number() over (order by mean_vote_average desc, person_id) as rank,
        'director' as subject_type,
        person_id as subject_id,
        person_name as subject_name,
        'mean_vote_average' as metric,
        mean_vote_average as value,
        'score_0_10' as unit
    from director_films
    where mean_vote_average is not null
    qualify rank <= {{ top_n }}
),

collections as (
    select
        collection_id,
        min(collection_name) as collection_name,
        sum(revenue_usd) as total_revenue_usd
    from movies
    where collection_id is not null
    group by collection_id
    having count(*) >= {{ var('kpi_min_collection_films') }} and count(revenue_usd) > 0
),

top_franchise_by_revenue as (
    select
        'top_franchise_by_revenue' as kpi,
        row_number() over (order by total_revenue_usd desc, collection_id) as rank,
        'collection' as subject_type,
        collection_id as subject_id,
        collection_name as subject_name,
        'total_revenue_usd' as metric,
        cast(total_revenue_usd as double) as value,
        'USD' as unit
    from collections
    qualify rank <= {{ top_n }}
),

segments as (
    select
        franchise_segment,
        count(*) as movie_count,
        avg(revenue_usd) as mean_revenue_usd,
        avg(roi) filter (where budget_usd >= {{ var('kpi_min_budget_usd') }}) as mean_roi,
        avg(vote_average) filter (where vote_count >= {{ var('kpi_min_vote_count') }}) as mean_vote_average
    from movies
    group by franchise_segment
),

franchise_vs_standalone as (
    select
        'franchise_vs_standalone' as kpi,
        case franchise_segment when 'franchise' then 1 when 'standalone' then 2 else 3 end as rank,
        'segment' as subject_type,
        cast(null as bigint) as subject_id,
        franchise_segment as subject_name,
        measures.metric,
        measures.value,
        measures.unit
    from segments
    cross join lateral (
        values
            ('movie_count', cast(movie_count as double), 'movies'),
            ('mean_revenue_usd', mean_revenue_usd, 'USD'),
            ('mean_roi', mean_roi, 'ratio'),
            ('mean_vote_average', mean_vote_average, 'score_0_10')
    ) as measures (metric, value, unit)
),

all_kpis as (
    select * from highest_revenue
    union all select * from highest_budget
    union all select * from highest_profit
    union all select * from highest_roi
    union all select * from lowest_roi
    union all select * from highest_rated
    union all select * from lowest_rated
    union all select * from most_popular
    union all select * from top_director_by_revenue
    union all select * from top_director_by_rating
    union all select * from top_franchise_by_revenue
    union all select * from franchise_vs_standalone
)

select
    cast(kpi as varchar) as kpi,
    cast(rank as integer) as rank,
    cast(subject_type as varchar) as subject_type,
    cast(subject_id as bigint) as subject_id,
    cast(subject_name as varchar) as subject_name,
    cast(metric as varchar) as metric,
    cast(value as double) as value,
    cast(unit as varchar) as unit
from all_kpis
