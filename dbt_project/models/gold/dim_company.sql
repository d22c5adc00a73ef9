-- Company dimension: one row per company_id seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_companies') }}
)

-- The same company_id can carry different names across movies; the most frequent wins.
select
    company_id,
    mode(company_name order by company_name) as company_name,
    mode(origin_country order by origin_country) as origin_country
from listed
group by company_id
