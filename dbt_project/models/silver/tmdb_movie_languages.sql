-- One row per (movie_id, iso_639_1): spoken languages of each movie's latest fetch.
with latest_payloads as (
    select * from {{ ref('tmdb_latest_payloads') }}
),

listed_languages as (
    select
        movie_id,
        unnest(from_json(payload -> '$.spoken_languages', '[{"iso_639_1":"VARCHAR","name":"VARCHAR"}]'), recursive := true),
        generate_subscripts(from_json(payload -> '$.spoken_languages', '[{"iso_639_1":"VARCHAR","name":"VARCHAR"}]'), 1) as list_position
    from latest_payloads
)

select
    movie_id,
    lower(iso_639_1) as iso_639_1,
    nullif(name, '') as language_name
from listed_languages
where nullif(iso_639_1, '') is not null
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, lower(iso_639_1) order by list_position) = 1
