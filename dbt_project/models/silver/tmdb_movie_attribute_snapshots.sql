{{
    config(
        materialized='incremental',
        tags=['daily'],
        **daily_incremental_config('snapshot_date', 'date'),
    )
}}
-- The tracked descriptive attributes of every successful TMDB fetch, typed: one row per
-- (snapshot_date, movie_id), with the day the history files them under (history_date: the
-- partition day for an on-time fetch, the UTC day of fetched_at for a late one, macro
-- observed_late). The input of gold.dim_movie_history. Typed the way
-- silver.tmdb_movies types the latest fetch (0 and '' read as unknown), so the history's
-- values compare with dim_movie's. Incremental by day exactly like
-- silver.tmdb_movie_snapshots (same config and pre-hook): with a partition window only the
-- window's bronze partitions are parsed; without them, and on the first build, every day.
{% set attributes_shape = {
    "imdb_id": "VARCHAR", "title": "VARCHAR", "original_title": "VARCHAR", "status": "VARCHAR",
    "release_date": "VARCHAR", "runtime": "INTEGER", "budget": "BIGINT", "revenue": "BIGINT",
    "belongs_to_collection": {"id": "BIGINT", "name": "VARCHAR"},
    "genres": [{"id": "BIGINT", "name": "VARCHAR"}]
} %}
with successful_fetches as (
    select
        movie_id,
        payload,
        partition_date,
        fetched_at
    from {{ source('bronze', 'tmdb_movies') }}
    where http_status = 200
    {%- if is_incremental() %}
        and {{ in_partition_window('partition_date') }}
    {%- endif %}
),

parsed as (
    select
        partition_date,
        movie_id,
        -- TMDB serves current values only: a late fetch (a refetched backfill, a dead-letter
        -- retry) observed them on the day it ran, not on the partition's day.
        case
            when {{ observed_late('fetched_at', 'partition_date') }} then cast({{ utc_timestamp('fetched_at') }} as date)
            else partition_date
        end as history_date,
        {{ from_json('payload', attributes_shape) }} as body
    from successful_fetches
)

select
    parsed.partition_date as snapshot_date,
    parsed.movie_id,
    parsed.history_date,
    body.title,
    body.original_title,
    nullif(body.status, '') as status,
    try_cast(nullif(body.release_date, '') as date) as release_date,
    -- TMDB reports an unknown runtime, budget or revenue as 0.
    nullif(body.runtime, 0) as runtime_minutes,
    nullif(body.budget, 0) as budget_usd,
    nullif(body.revenue, 0) as revenue_usd,
    -- The genre names sorted and joined like gold.dim_movie.genres; NULL when there are none.
    nullif({{ join_list(sorted_list_field('body.genres', 'name'), "', '") }}, '') as genres,
    body.belongs_to_collection.id as collection_id,
    body.belongs_to_collection.name as collection_name,
    nullif(body.imdb_id, '') as imdb_id
from parsed
