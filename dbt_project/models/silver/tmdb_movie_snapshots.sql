-- Every successful TMDB fetch, typed: one row per (snapshot_date, movie_id).
-- A view, so the daily fact and the latest-per-movie table share one parse of the JSON.
with successful_fetches as (
    select movie_id, payload, fetched_at, partition_date
    from {{ source('bronze', 'tmdb_movies') }}
    where http_status = 200
),

typed as (
    select
        partition_date as snapshot_date,
        movie_id,
        fetched_at,
        nullif(payload ->> '$.imdb_id', '') as imdb_id,
        payload ->> '$.title' as title,
        payload ->> '$.original_title' as original_title,
        nullif(payload ->> '$.original_language', '') as original_language,
        nullif(payload ->> '$.status', '') as status,
        try_cast(nullif(payload ->> '$.release_date', '') as date) as release_date,
        {{ tmdb_unknown_zero_to_null('payload', 'runtime', 'integer') }} as runtime_minutes,
        {{ tmdb_unknown_zero_to_null('payload', 'budget') }} as budget_usd,
        {{ tmdb_unknown_zero_to_null('payload', 'revenue') }} as revenue_usd,
        cast(payload ->> '$.popularity' as double) as popularity,
        cast(payload ->> '$.vote_count' as bigint) as vote_count,
        -- TMDB shows 0.0 for a film nobody has rated yet: that is no rating, not a bad one.
        case
            when cast(payload ->> '$.vote_count' as bigint) > 0
                then cast(payload ->> '$.vote_average' as double)
        end as vote_average,
        cast(payload ->> '$.belongs_to_collection.id' as bigint) as collection_id,
        payload ->> '$.belongs_to_collection.name' as collection_name,
        list_sort(cast(json_extract_string(payload, '$.genres[*].name') as varchar[])) as genre_names,
        payload
    from successful_fetches
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
    genre_names,
    payload
from typed
