-- Bridge movie <-> language: one row per (movie_id, iso_639_1).
select
    movie_id,
    iso_639_1
from {{ ref('tmdb_movie_languages') }}
