{{ config(materialized=view_materialization()) }}
-- The latest snapshot of every movie: its measures as of its latest fetch, with the
-- descriptive attributes of gold.dim_movie. is_current marks movies fetched on the most
-- recent snapshot day: popularity is only comparable within one day (TMDB rescales it).
select
    movie_id,
    last_snapshot_date as snapshot_date,
    {{ date_id('last_snapshot_date') }} as date_id,
    last_snapshot_date = max(last_snapshot_date) over () as is_current,
    title,
    release_date,
    genres,
    collection_name,
    popularity,
    vote_average,
    vote_count,
    budget_usd,
    revenue_usd,
    profit_usd,
    roi
from {{ ref('dim_movie') }}
