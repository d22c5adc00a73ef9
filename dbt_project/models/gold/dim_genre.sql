-- Genre dimension: one row per genre_id seen in the movies' latest fetches.
with listed as (
    select * from {{ ref('tmdb_movie_genres') }}
)

-- The same genre_id can carry different names across movies; the most frequent wins.
select
    genre_id,
    mode(genre_name order by genre_name) as genre_name
from listed
group by genre_id
