-- Bridge movie <-> country: one row per (movie_id, iso_3166_1).
select
    movie_id,
    iso_3166_1
from {{ ref('tmdb_movie_countries') }}
