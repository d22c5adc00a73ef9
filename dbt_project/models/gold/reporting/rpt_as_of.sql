-- Report shape for the workbook's About sheet: one row saying which TMDB day the reports show.
-- The reported day is the newest day the TMDB load landed anything for, movies or dead letters,
-- so a day on which every fetch failed is reported with its dead letters, not hidden behind
-- the day before.
-- The day's fetches come from the typed snapshots (one row per movie and day), not from bronze:
-- a join on the newest day does not prune the lake's day files, so bronze would be read for
-- every day of history in every daily run. The snapshots are imported twice, once per use:
-- DuckDB materializes a CTE that is read more than once, which copied every day's snapshots.
with snapshot_days as (
    select snapshot_date from {{ ref('tmdb_movie_snapshots') }}
),

snapshots as (
    select * from {{ ref('tmdb_movie_snapshots') }}
),

dead_letters as (
    select * from {{ source('bronze', 'tmdb_dead_letter') }}
),

landed_days as (
    select snapshot_date as partition_date from snapshot_days
    union all
    select partition_date from dead_letters
),

reported_day as (
    select max(partition_date) as partition_date
    from landed_days
),

reported_fetches as (
    select snapshots.*
    from snapshots
    inner join reported_day on snapshots.snapshot_date = reported_day.partition_date
),

fetch_summary as (
    select
        max(fetched_at) as fetched_at,
        max_by(fetched_by_run_id, fetched_at) as fetched_by_run_id,
        count(distinct movie_id) as movies_in_partition,
        -- A refetched or retried day holds values of a later day (observed_late).
        max(observed_date) as observed_date,
        bool_or(observed_late) as observed_late,
        -- Rows from before the source was recorded carry NULL: unknown, left out of the list.
        {{ distinct_sorted_string_agg('tmdb_source', "','") }} as tmdb_source
    from reported_fetches
)

select
    reported_day.partition_date,
    fetch_summary.fetched_at,
    fetch_summary.fetched_by_run_id,
    fetch_summary.movies_in_partition,
    fetch_summary.tmdb_source,
    fetch_summary.observed_date,
    fetch_summary.observed_late
from reported_day
cross join fetch_summary
