-- One row per (movie_id, company_id): production companies of each movie's latest fetch, in billing order.
with latest_bodies as (
    select * from {{ ref('tmdb_latest_bodies') }}
)

{{ explode_body_list(
    bodies='latest_bodies',
    list_field='production_companies',
    columns=[
        'id as company_id',
        'name as company_name',
        "nullif(origin_country, '') as origin_country",
        'list_position as billing_order',
    ],
    dedupe_key='id',
    where='id is not null',
) }}
