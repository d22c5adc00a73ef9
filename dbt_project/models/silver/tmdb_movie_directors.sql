-- One row per (movie_id, person_id) credited with the job Director in the latest fetch; empty when the responses carry no credits (append_to_response=credits).
with latest_lists as (
    select movie_id, body.credits.crew as entries
    from {{ ref('tmdb_latest_bodies') }}
),

credited_crew as (
    select
        movie_id,
        unnest(entries, recursive := true),
        generate_subscripts(entries, 1) as list_position
    from latest_lists
)

select
    movie_id,
    id as person_id,
    name as person_name
from credited_crew
where id is not null and job = 'Director'
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, id order by list_position) = 1
