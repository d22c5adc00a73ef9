{{ config(materialized=view_materialization()) }}
-- Every snapshot day holding late observations: TMDB values fetched after the day (plus the
-- grace hours) by a backfill with refetch or a dead-letter retry, filed under that day. The
-- workbook's About sheet and the dashboard list these days so readers can tell them apart.
with snapshots as (
    select * from {{ ref('tmdb_movie_snapshots') }}
)

select
    snapshot_date,
    min(observed_date) as first_observed_date,
    max(observed_date) as last_observed_date,
    cast(sum(case when observed_late then 1 else 0 end) as bigint) as late_movies,
    cast(count(*) as bigint) as movies
from snapshots
group by snapshot_date
having bool_or(observed_late)
