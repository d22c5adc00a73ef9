-- One row per (movie_id, iso_639_1): spoken languages of each movie's latest fetch.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='spoken_languages',
    columns=[
        'lower(iso_639_1) as iso_639_1',
        "nullif(name, '') as language_name",
    ],
    dedupe_key='lower(iso_639_1)',
    where="nullif(iso_639_1, '') is not null",
) }}
