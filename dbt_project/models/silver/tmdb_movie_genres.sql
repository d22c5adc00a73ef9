-- One row per (movie_id, genre_id) of each movie's latest fetch.
with latest_payloads as (
    select * from {{ ref('tmdb_latest_payloads') }}
),

listed_genres as (
    select
        movie_id,
        unnest(from_json(payload -> '$.genres', '[{"id":"BIGINT","name":"VARCHAR"}]'), recursive := true),
        generate_subscripts(from_json(payload -> '$.genres', '[{"id":"BIGINT","name":"VARCHAR"}]'), 1) as list_position
    from latest_payloads
)

select
    movie_id,
    id as genre_id,
    name as genre_name
from listed_genres
where id is not null
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, id order by list_position) = 1
