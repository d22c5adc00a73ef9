-- Language dimension: one row per iso_639_1 seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_languages') }}
)

{{ mode_dimension('listed', 'iso_639_1', ['language_name']) }}
