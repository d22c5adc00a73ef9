{{ config(materialized=view_materialization()) }}
-- The movies of the most recent snapshot day ranked by popularity, then rating, then votes
-- (rank 1 = most popular; movie_id breaks ties so ranks are unique). Only one day is ranked
-- because TMDB's popularity scale changes over time.
select
    row_number() over (
        order by
            popularity desc nulls last, vote_average desc nulls last,
            vote_count desc nulls last, movie_id asc
    ) as popularity_rank,
    movie_id,
    title,
    release_date,
    genres,
    popularity,
    vote_average,
    vote_count,
    snapshot_date
from {{ ref('vw_movie_latest') }}
where is_current
