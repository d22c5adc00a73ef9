-- One row per (movie_id, genre_id) of each movie's latest fetch.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='genres',
    columns=[
        'id as genre_id',
        'name as genre_name',
    ],
    dedupe_key='id',
    where='id is not null',
) }}
