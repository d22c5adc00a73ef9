-- Genre dimension: one row per genre_id seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_genres') }}
)

{{ mode_dimension('listed', 'genre_id', ['genre_name']) }}
