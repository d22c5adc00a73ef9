-- One typed row per TMDB movie: its latest successful fetch across all daily partitions,
-- descriptive fields from that fetch's body, daily measures from the same fetch's snapshot.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
),

snapshots as (
    select * from {{ ref('tmdb_movie_snapshots') }}
),

latest_fetch as (
    select
        latest_bodies.movie_id,
        nullif(latest_bodies.body.imdb_id, '') as imdb_id,
        latest_bodies.body.title,
        latest_bodies.body.original_title,
        nullif(latest_bodies.body.original_language, '') as original_language,
        nullif(latest_bodies.body.status, '') as status,
        try_cast(nullif(latest_bodies.body.release_date, '') as date) as release_date,
        -- TMDB reports an unknown runtime as 0.
        nullif(latest_bodies.body.runtime, 0) as runtime_minutes,
        snapshots.budget_usd,
        snapshots.revenue_usd,
        snapshots.popularity,
        snapshots.vote_average,
        snapshots.vote_count,
        latest_bodies.body.belongs_to_collection.id as collection_id,
        latest_bodies.body.belongs_to_collection.name as collection_name,
        {{ sorted_list_field('latest_bodies.body.genres', 'name') }} as genre_names,
        latest_bodies.body.credits is not null as credits_known,
        latest_bodies.snapshot_date,
        latest_bodies.fetched_at
    from latest_bodies
    inner join snapshots
        on
            latest_bodies.movie_id = snapshots.movie_id
            and latest_bodies.snapshot_date = snapshots.snapshot_date
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
    case
        when budget_usd is not null and revenue_usd is not null
            then revenue_usd - budget_usd
    end as profit_usd,
    case
        when budget_usd is not null and revenue_usd is not null
            then (revenue_usd - budget_usd) / budget_usd
    end as roi,
    popularity,
    vote_average,
    vote_count,
    collection_id,
    collection_name,
    -- Records without an imdb_id come from a source that lacks belongs_to_collection
    -- (TMDB 5000), so there a null collection means "unknown", not "standalone".
    collection_id is not null or imdb_id is not null as collection_known,
    genre_names,
    credits_known,
    snapshot_date,
    fetched_at
from latest_fetch
