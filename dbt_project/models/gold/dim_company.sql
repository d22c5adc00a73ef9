-- Company dimension: one row per company_id seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_companies') }}
)

{{ mode_dimension('listed', 'company_id', ['company_name', 'origin_country']) }}
