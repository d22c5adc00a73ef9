-- One row per (movie_id, iso_3166_1): production countries of each movie's latest fetch.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='production_countries',
    columns=[
        'upper(iso_3166_1) as iso_3166_1',
        'name as country_name',
    ],
    dedupe_key='upper(iso_3166_1)',
    where="nullif(iso_3166_1, '') is not null",
) }}
