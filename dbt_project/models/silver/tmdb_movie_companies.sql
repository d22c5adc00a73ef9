-- One row per (movie_id, company_id): production companies of each movie's latest fetch, in billing order.
with latest_lists as (
    select movie_id, body.production_companies as entries
    from {{ ref('tmdb_latest_bodies') }}
),

listed_companies as (
    select
        movie_id,
        unnest(entries, recursive := true),
        generate_subscripts(entries, 1) as list_position
    from latest_lists
)

select
    movie_id,
    id as company_id,
    name as company_name,
    nullif(origin_country, '') as origin_country,
    list_position as billing_order
from listed_companies
where id is not null
-- The API can repeat an entry; keep its first (highest-billed) occurrence.
qualify row_number() over (partition by movie_id, id order by list_position) = 1
