-- One row per cast credit of each movie's latest fetch (`credits.cast`); a movie whose body has
-- no credits contributes no row.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='credits.cast',
    columns=[
        'credit_id',
        'id as person_id',
        'name as person_name',
        'gender',
        "nullif(character, '') as character_name",
        adapter.quote('order') ~ ' as cast_order',
    ],
    dedupe_key='credit_id',
    where='id is not null and credit_id is not null',
) }}
