-- One row per (movie_id, person_id) of the top-billed cast (var top_cast_size) in the latest fetch; empty when the responses carry no credits.
with latest_lists as (
    select movie_id, body.credits.cast as entries
    from {{ ref('tmdb_latest_bodies') }}
),

credited_cast as (
    select
        movie_id,
        unnest(entries, recursive := true),
        generate_subscripts(entries, 1) as list_position
    from latest_lists
)

select
    movie_id,
    id as person_id,
    name as person_name,
    nullif(character, '') as character_name,
    "order" as cast_order
from credited_cast
where id is not null and "order" < {{ var('top_cast_size') }}
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, id order by list_position) = 1
