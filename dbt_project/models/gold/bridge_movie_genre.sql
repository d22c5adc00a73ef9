-- Bridge movie <-> genre: one row per (movie_id, genre_id).
select
    movie_id,
    genre_id
from {{ ref('tmdb_movie_genres') }}
