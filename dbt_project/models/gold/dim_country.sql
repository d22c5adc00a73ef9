-- Country dimension: one row per iso_3166_1 seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_countries') }}
)

-- The same iso_3166_1 can carry different names across movies; the most frequent wins.
select
    iso_3166_1,
    mode(country_name order by country_name) as country_name
from listed
group by iso_3166_1
