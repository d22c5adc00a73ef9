-- One row per (movie_id, person_id) credited with the job Director in the latest fetch; empty when the responses carry no credits (append_to_response=credits).
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='credits.crew',
    columns=[
        'id as person_id',
        'name as person_name',
    ],
    dedupe_key='id',
    where="id is not null and job = 'Director'",
) }}
