-- Headline KPIs in one long table: one row per (kpi, rank, metric). Thresholds are dbt vars
-- (kpi_top_n, kpi_min_budget_usd, kpi_min_vote_count, kpi_min_director_films,
-- kpi_min_collection_films, top_cast_size); see kpi_summary.yml for why one long table.
{%- set movie = {'relation': 'movies', 'type': 'movie', 'id': 'movie_id', 'name': 'title'} %}
{%- set director = {'relation': 'director_films', 'type': 'director', 'id': 'person_id', 'name': 'person_name'} %}
{%- set actor = {'relation': 'actor_films', 'type': 'actor', 'id': 'person_id', 'name': 'person_name'} %}
{%- set collection = {'relation': 'collections', 'type': 'collection', 'id': 'collection_id', 'name': 'collection_name'} %}
{%- set min_budget = 'budget_usd >= ' ~ var('kpi_min_budget_usd') %}
{%- set min_votes = 'vote_count >= ' ~ var('kpi_min_vote_count') %}
{%- set min_director_films = var('kpi_min_director_films') %}
{#- Every KPI, in the order a reader lays them out (kpi_order): the dashboard and the workbook
    read names and order from this table, not from here. #}
{%- set kpi_reading_order = [
    'highest_revenue', 'highest_budget', 'highest_profit', 'highest_roi', 'lowest_roi',
    'highest_rated', 'lowest_rated', 'most_popular', 'top_director_by_revenue',
    'top_director_by_median_roi', 'top_director_by_rating', 'top_actor_by_revenue',
    'top_franchise_by_revenue', 'franchise_vs_standalone',
] %}

with movies as (
    select
        *,
        -- popularity is only comparable within one snapshot day (TMDB rescales it)
        last_snapshot_date = max(last_snapshot_date) over () as is_current
    from {{ ref('dim_movie') }}
),

people as (
    select * from {{ ref('dim_person') }}
),

-- A movie with two directors counts in full for each.
directors as (
    select distinct
        movie_id,
        person_id
    from {{ ref('bridge_movie_crew') }}
    where job = 'Director'
),

-- A movie counts once for an actor billed twice in its top positions.
top_billed_actors as (
    select distinct
        movie_id,
        person_id
    from {{ ref('bridge_movie_cast') }}
    where cast_order < {{ var('top_cast_size') }}
),

coverage as (
    select
        count(*) filter (where credits_known) as movies_with_credits,
        count(*) as movies_total
    from movies
),

{{ kpi_ranking('highest_revenue', movie, 'revenue_usd', 'USD', 'revenue_usd desc') }}
{{ kpi_ranking('highest_budget', movie, 'budget_usd', 'USD', 'budget_usd desc') }}
{{ kpi_ranking('highest_profit', movie, 'profit_usd', 'USD', 'profit_usd desc') }}
{{ kpi_ranking('highest_roi', movie, 'roi', 'ratio', 'roi desc', min_budget) }}
{{ kpi_ranking('lowest_roi', movie, 'roi', 'ratio', 'roi asc', min_budget) }}
{{ kpi_ranking('highest_rated', movie, 'vote_average', 'score_0_10', 'vote_average desc, vote_count desc', min_votes) }}
{{ kpi_ranking('lowest_rated', movie, 'vote_average', 'score_0_10', 'vote_average asc, vote_count desc', min_votes) }}
{{ kpi_ranking('most_popular', movie, 'popularity', 'tmdb_popularity', 'popularity desc', 'is_current') }}

-- Each director metric is over the films having it (the ROI and vote filters as for the movie
-- KPIs above), and a director needs kpi_min_director_films such films to be ranked by it.
director_films as (
    select
        directors.person_id,
        people.name as person_name,
        count(movies.revenue_usd) as films_with_revenue,
        sum(movies.revenue_usd) as total_revenue_usd,
        count(movies.roi) filter (where {{ min_budget }}) as films_with_roi,
        median(movies.roi) filter (where {{ min_budget }}) as median_roi,
        count(movies.vote_average) filter (where {{ min_votes }}) as films_rated,
        avg(movies.vote_average) filter (where {{ min_votes }}) as mean_vote_average
    from directors
    inner join movies on directors.movie_id = movies.movie_id
    inner join people on directors.person_id = people.person_id
    group by directors.person_id, people.name
),

{{ kpi_ranking('top_director_by_revenue', director, 'total_revenue_usd', 'USD', 'total_revenue_usd desc',
               'films_with_revenue >= ' ~ min_director_films) }}
{{ kpi_ranking('top_director_by_median_roi', director, 'median_roi', 'ratio', 'median_roi desc',
               'films_with_roi >= ' ~ min_director_films) }}
{{ kpi_ranking('top_director_by_rating', director, 'mean_vote_average', 'score_0_10', 'mean_vote_average desc',
               'films_rated >= ' ~ min_director_films) }}

actor_films as (
    select
        top_billed_actors.person_id,
        people.name as person_name,
        sum(movies.revenue_usd) as total_revenue_usd
    from top_billed_actors
    inner join movies on top_billed_actors.movie_id = movies.movie_id
    inner join people on top_billed_actors.person_id = people.person_id
    group by top_billed_actors.person_id, people.name
),

{{ kpi_ranking('top_actor_by_revenue', actor, 'total_revenue_usd', 'USD', 'total_revenue_usd desc') }}

collections as (
    select
        collection_id,
        min(collection_name) as collection_name,
        sum(revenue_usd) as total_revenue_usd
    from movies
    where collection_id is not null
    group by collection_id
    having count(*) >= {{ var('kpi_min_collection_films') }}
),

{{ kpi_ranking('top_franchise_by_revenue', collection, 'total_revenue_usd', 'USD', 'total_revenue_usd desc') }}

segments as (
    select
        franchise_segment,
        count(*) as movie_count,
        avg(revenue_usd) as mean_revenue_usd,
        avg(roi) filter (where {{ min_budget }}) as mean_roi,
        avg(vote_average) filter (where {{ min_votes }}) as mean_vote_average
    from movies
    group by franchise_segment
),

-- One row per segment and measure (a union, as a lateral VALUES list is DuckDB's only).
{%- set segment_measures = [
    ('movie_count', 'cast(movie_count as double)', 'movies'),
    ('mean_revenue_usd', 'mean_revenue_usd', 'USD'),
    ('mean_roi', 'mean_roi', 'ratio'),
    ('mean_vote_average', 'mean_vote_average', 'score_0_10'),
] %}
franchise_vs_standalone as (
    {%- for metric, value, unit in segment_measures %}
        select
            'franchise_vs_standalone' as kpi,
            case franchise_segment when 'franchise' then 1 when 'standalone' then 2 else 3 end as rank,
            'segment' as subject_type,
            cast(null as bigint) as subject_id,
            franchise_segment as subject_name,
            '{{ metric }}' as metric,
            {{ value }} as value,
            '{{ unit }}' as unit
        from segments
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

all_kpis as (
    {%- for name in kpi_reading_order %}
        {% if not loop.first %}
            union all
        {% endif %}select * from {{ name }}
    {%- endfor %}
)

select
    cast(all_kpis.kpi as {{ dbt.type_string() }}) as kpi,
    cast(all_kpis.rank as integer) as rank,
    cast(all_kpis.subject_type as {{ dbt.type_string() }}) as subject_type,
    cast(all_kpis.subject_id as bigint) as subject_id,
    cast(all_kpis.subject_name as {{ dbt.type_string() }}) as subject_name,
    cast(all_kpis.metric as {{ dbt.type_string() }}) as metric,
    cast(all_kpis.value as double) as value,
    cast(all_kpis.unit as {{ dbt.type_string() }}) as unit,
    -- Credit-based KPIs rank people, and only movies with known credits have any.
    cast(case when all_kpis.subject_type in ('director', 'actor') then coverage.movies_with_credits end as bigint)
        as movies_with_credits,
    cast(coverage.movies_total as bigint) as movies_total,
    all_kpis.subject_type in ('director', 'actor') as credit_based,
    cast(case all_kpis.kpi
        {%- for name in kpi_reading_order %}
            when '{{ name }}' then {{ loop.index }}
        {%- endfor %}
    end as integer) as kpi_order
from all_kpis
cross join coverage
