{{
    config(
        materialized='incremental',
        tags=['daily'],
        **daily_incremental_config('snapshot_date', 'date'),
    )
}}
-- The daily measures of every successful TMDB fetch, typed: one row per (snapshot_date, movie_id).
-- Only what the daily fact reads is parsed here, from every body of every day; the descriptive
-- fields and lists are parsed once per movie, from its latest fetch (silver.tmdb_latest_bodies).
-- Incremental by day like gold.fact_movie_daily: with a partition window only the window's bronze
-- partitions are read and typed, and they replace the same days here (the pre-hook empties the
-- whole window first, so a re-fetched day with no successful fetch ends empty). Without them,
-- and on the first build (the unpartitioned models read every day from here), every day in
-- bronze is typed.
-- TMDB answers with current values only, so a day's row is an observation of that day only if
-- it was fetched during the day or its grace hours (macro observed_late); a later fetch (a
-- backfill with refetch, a dead-letter retry) carries observed_late and its own observed_date.
{# The body fields read below, as a from_json shape (macro from_json) with their SQL types. #}
{% set measures_shape = {"budget": "BIGINT", "revenue": "BIGINT", "popularity": "DOUBLE", "vote_count": "BIGINT", "vote_average": "DOUBLE"} %}
with successful_fetches as (
    select
        movie_id,
        payload,
        fetched_at,
        partition_date,
        run_id,
        tmdb_source
    from {{ source('bronze', 'tmdb_movies') }}
    where http_status = 200
    {%- if is_incremental() %}
        and {{ in_partition_window('partition_date') }}
    {%- endif %}
),

parsed as (
    -- One parse of each body (from_json into a struct) instead of one per extracted field.
    select
        partition_date,
        movie_id,
        fetched_at,
        run_id,
        tmdb_source,
        {{ from_json('payload', measures_shape) }} as measures
    from successful_fetches
)

select
    parsed.partition_date as snapshot_date,
    parsed.movie_id,
    parsed.fetched_at,
    -- TMDB reports an unknown budget or revenue as 0.
    nullif(measures.budget, 0) as budget_usd,
    nullif(measures.revenue, 0) as revenue_usd,
    measures.popularity,
    -- TMDB shows 0.0 for a film nobody has rated yet: that is no rating, not a bad one.
    case
        when measures.vote_count > 0
            then measures.vote_average
    end as vote_average,
    measures.vote_count,
    parsed.run_id as fetched_by_run_id,
    parsed.tmdb_source,
    cast({{ utc_timestamp('fetched_at') }} as date) as observed_date,
    {{ observed_late('fetched_at', 'partition_date') }} as observed_late
from parsed
