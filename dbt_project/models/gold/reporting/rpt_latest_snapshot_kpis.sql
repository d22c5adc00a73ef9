{{ config(materialized=view_materialization()) }}
-- Headline numbers of the most recent snapshot day for the dashboard: the same movies and the
-- same "rated" rule as gold.vw_genre_popularity (is_current; vote_average NULL = nobody voted).
with latest as (
    select * from {{ ref('vw_movie_latest') }}
    where is_current
)

select
    max(snapshot_date) as snapshot_date,
    count(*) as movies,
    count(vote_average) as rated_movies,
    avg(vote_average) as mean_vote_average,
    cast(coalesce(sum(vote_count), 0) as bigint) as total_vote_count
from latest
