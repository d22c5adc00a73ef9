-- Bridge movie <-> company: one row per (movie_id, company_id).
select
    movie_id,
    company_id,
    billing_order
from {{ ref('tmdb_movie_companies') }}
