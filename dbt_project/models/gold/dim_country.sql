-- Country dimension: one row per iso_3166_1 seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_countries') }}
)

{{ mode_dimension('listed', 'iso_3166_1', ['country_name']) }}
