-- One row per (movie_id, person_id, department, job) of each movie's latest fetch
-- (`credits.crew`), every department and job; a movie whose body has no credits contributes no
-- row.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='credits.crew',
    columns=[
        'credit_id',
        'id as person_id',
        'name as person_name',
        'gender',
        'department',
        'job',
    ],
    dedupe_key='id, department, job',
    where='id is not null',
) }}
