-- Every successful TMDB fetch, typed: one row per (snapshot_date, movie_id).
-- A table, so each body is parsed once: as a view, the daily fact, the latest-per-movie
-- table, the exploded models, dim_date and every test re-parsed every body of every day.
-- The raw payload stays in bronze (silver.tmdb_latest_payloads reads it from there), so the
-- table is not a second copy of every body.
{# The body fields read below, as a from_json shape with their SQL types. #}
{% set body_shape = '{"imdb_id": "VARCHAR", "title": "VARCHAR", "original_title": "VARCHAR", "original_language": "VARCHAR", "status": "VARCHAR", "release_date": "VARCHAR", "runtime": "INTEGER", "budget": "BIGINT", "revenue": "BIGINT", "popularity": "DOUBLE", "vote_count": "BIGINT", "vote_average": "DOUBLE", "belongs_to_collection": {"id": "BIGINT", "name": "VARCHAR"}, "genres": [{"name": "VARCHAR"}]}' %}
with successful_fetches as (
    select movie_id, payload, fetched_at, partition_date
    from {{ source('bronze', 'tmdb_movies') }}
    where http_status = 200
),

parsed as (
    -- One parse of each body (from_json into a struct) instead of one per extracted field.
    select
        partition_date,
        movie_id,
        fetched_at,
        from_json(payload, '{{ body_shape }}') as body
    from successful_fetches
),

typed as (
    select
        partition_date as snapshot_date,
        movie_id,
        fetched_at,
        nullif(body.imdb_id, '') as imdb_id,
        body.title as title,
        body.original_title as original_title,
        nullif(body.original_language, '') as original_language,
        nullif(body.status, '') as status,
        try_cast(nullif(body.release_date, '') as date) as release_date,
        -- TMDB reports an unknown runtime, budget or revenue as 0.
        nullif(body.runtime, 0) as runtime_minutes,
        nullif(body.budget, 0) as budget_usd,
        nullif(body.revenue, 0) as revenue_usd,
        body.popularity as popularity,
        body.vote_count as vote_count,
        -- TMDB shows 0.0 for a film nobody has rated yet: that is no rating, not a bad one.
        case
            when body.vote_count > 0
                then body.vote_average
        end as vote_average,
        body.belongs_to_collection.id as collection_id,
        body.belongs_to_collection.name as collection_name,
        list_sort(coalesce(list_transform(body.genres, lambda genre: genre.name), [])) as genre_names
    from parsed
)

select
    snapshot_date,
    movie_id,
    fetched_at,
    imdb_id,
    title,
    original_title,
    original_language,
    status,
    release_date,
    runtime_minutes,
    budget_usd,
    revenue_usd,
    case when budget_usd is not null and revenue_usd is not null
        then revenue_usd - budget_usd end as profit_usd,
    case when budget_usd is not null and revenue_usd is not null
        then (revenue_usd - budget_usd) / budget_usd end as roi,
    popularity,
    vote_average,
    vote_count,
    collection_id,
    collection_name,
    -- Records without an imdb_id come from a source that lacks belongs_to_collection
    -- (TMDB 5000), so there a null collection means "unknown", not "standalone".
    collection_id is not null or imdb_id is not null as collection_known,
    genre_names
from typed
