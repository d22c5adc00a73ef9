-- Language dimension: one row per iso_639_1 seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_languages') }}
)

-- The same iso_639_1 can carry different names across movies; the most frequent wins.
select
    iso_639_1,
    mode(language_name order by language_name) as language_name
from listed
group by iso_639_1
