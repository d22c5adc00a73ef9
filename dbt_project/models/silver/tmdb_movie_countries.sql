-- One row per (movie_id, iso_3166_1): production countries of each movie's latest fetch.
with latest_lists as (
    select movie_id, body.production_countries as entries
    from {{ ref('tmdb_latest_bodies') }}
),

listed_countries as (
    select
        movie_id,
        unnest(entries, recursive := true),
        generate_subscripts(entries, 1) as list_position
    from latest_lists
)

select
    movie_id,
    upper(iso_3166_1) as iso_3166_1,
    name as country_name
from listed_countries
where nullif(iso_3166_1, '') is not null
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, upper(iso_3166_1) order by list_position) = 1
