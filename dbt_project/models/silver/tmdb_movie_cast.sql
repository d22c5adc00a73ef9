-- One row per (movie_id, person_id) of the top-billed cast (var top_cast_size) in the latest fetch; empty when the responses carry no credits.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='credits.cast',
    columns=[
        'id as person_id',
        'name as person_name',
        "nullif(character, '') as character_name",
        '"order" as cast_order',
    ],
    dedupe_key='id',
    where='id is not null and "order" < ' ~ var('top_cast_size'),
) }}
