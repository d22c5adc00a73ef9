-- One row per (movie_id, company_id): production companies of each movie's latest fetch, in billing order.
with latest_payloads as (
    select * from {{ ref('tmdb_latest_payloads') }}
),

listed_companies as (
    select
        movie_id,
        unnest(from_json(payload -> '$.production_companies', '[{"id":"BIGINT","name":"VARCHAR","origin_country":"VARCHAR"}]'), recursive := true),
        generate_subscripts(from_json(payload -> '$.production_companies', '[{"id":"BIGINT","name":"VARCHAR","origin_country":"VARCHAR"}]'), 1) as list_position
    from latest_payloads
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
