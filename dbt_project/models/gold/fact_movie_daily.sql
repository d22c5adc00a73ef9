{{
    config(
        materialized='incremental',
        tags=['daily'],
        **daily_incremental_config('date_id'),
    )
}}
-- Daily movie facts: one row per (date_id, movie_id) fetched that day. Built per Dagster
-- partition: the window [window_min_date(), window_max_date()) is selected from silver and its days
-- replace the same days in this table (the pre-hook empties the whole window first, so a day
-- re-loaded with no rows is emptied too; see macro daily_incremental_config); other days are
-- untouched.
-- The dimensions are declared upstream so that the fact's relationship tests run with it:
-- depends_on: {{ ref('dim_date') }}, {{ ref('dim_movie') }}
with snapshots as (
    select * from {{ ref('tmdb_movie_snapshots') }}
    where {{ in_partition_window('snapshot_date') }}
)

select
    {{ date_id('snapshot_date') }} as date_id,
    movie_id,
    popularity,
    vote_average,
    vote_count,
    budget_usd,
    revenue_usd,
    fetched_at,
    observed_date,
    observed_late
from snapshots
