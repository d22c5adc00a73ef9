{{ config(materialized=view_materialization()) }}
-- Per genre on the most recent snapshot day: how many movies, how popular, how rated
-- (one day only, because TMDB's popularity scale changes over time).
with latest as (
    select * from {{ ref('vw_movie_latest') }}
    where is_current
),

movie_genres as (
    select * from {{ ref('bridge_movie_genre') }}
),

genres as (
    select * from {{ ref('dim_genre') }}
)

select
    genres.genre_id,
    genres.genre_name,
    count(*) as movie_count,
    avg(latest.popularity) as avg_popularity,
    avg(latest.vote_average) as avg_vote_average,
    cast(sum(latest.vote_count) as bigint) as total_vote_count
from movie_genres
inner join latest on movie_genres.movie_id = latest.movie_id
inner join genres on movie_genres.genre_id = genres.genre_id
group by genres.genre_id, genres.genre_name
