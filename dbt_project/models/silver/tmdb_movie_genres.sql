-- One row per (movie_id, genre_id) of each movie's latest fetch.
with latest_lists as (
    select movie_id, body.genres as entries
    from {{ ref('tmdb_latest_bodies') }}
),

listed_genres as (
    select
        movie_id,
        unnest(entries, recursive := true),
        generate_subscripts(entries, 1) as list_position
    from latest_lists
)

select
    movie_id,
    id as genre_id,
    name as genre_name
from listed_genres
where id is not null
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, id order by list_position) = 1
