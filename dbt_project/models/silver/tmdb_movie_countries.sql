-- One row per (movie_id, iso_3166_1): production countries of each movie's latest fetch.
with latest_payloads as (
    select * from {{ ref('tmdb_latest_payloads') }}
),

listed_countries as (
    select
        movie_id,
        unnest(from_json(payload -> '$.production_countries', '[{"iso_3166_1":"VARCHAR","name":"VARCHAR"}]'), recursive := true),
        generate_subscripts(from_json(payload -> '$.production_countries', '[{"iso_3166_1":"VARCHAR","name":"VARCHAR"}]'), 1) as list_position
    from latest_payloads
)

select
    movie_id,
    upper(iso_3166_1) as iso_3166_1,
    name as country_name
from listed_countries
where nullif(iso_3166_1, '') is not null
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, upper(iso_3166_1) order by list_position) = 1
