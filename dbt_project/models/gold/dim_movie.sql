-- Movie dimension: one row per TMDB movie with its descriptive attributes.
with movies as (
    select * from {{ ref('tmdb_movies') }}
)

select
    movie_id,
    title,
    original_title,
    release_date,
    vote_average,
    vote_count,
    popularity,
    array_to_string(genre_names, ', ') as genres
from movies
