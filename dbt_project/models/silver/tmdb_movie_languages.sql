-- One row per (movie_id, iso_639_1): spoken languages of each movie's latest fetch.
with latest_lists as (
    select movie_id, body.spoken_languages as entries
    from {{ ref('tmdb_latest_bodies') }}
),

listed_languages as (
    select
        movie_id,
        unnest(entries, recursive := true),
        generate_subscripts(entries, 1) as list_position
    from latest_lists
)

select
    movie_id,
    lower(iso_639_1) as iso_639_1,
    nullif(name, '') as language_name
from listed_languages
where nullif(iso_639_1, '') is not null
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, lower(iso_639_1) order by list_position) = 1
