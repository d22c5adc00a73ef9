-- One typed row per TMDB movie: its latest successful fetch across all daily partitions.
with snapshots as (
    select * from {{ ref('tmdb_movie_snapshots') }}
),

-- Rank on the key columns alone, then join back: a window over every column sorted every
-- day's raw payload too, to keep one row a movie.
latest_keys as (
    select movie_id, snapshot_date
    from snapshots
    qualify row_number() over (
        partition by movie_id order by snapshot_date desc, fetched_at desc
    ) = 1
),

latest_fetch as (
    select snapshots.*
    from snapshots
    inner join latest_keys using (movie_id, snapshot_date)
)

select
    movie_id,
    imdb_id,
    title,
    original_title,
    original_language,
    status,
    release_date,
    runtime_minutes,
    budget_usd,
    revenue_usd,
    profit_usd,
    roi,
    popularity,
    vote_average,
    vote_count,
    collection_id,
    collection_name,
    collection_known,
    genre_names,
    snapshot_date,
    fetched_at
from latest_fetch
