{{ config(materialized='ephemeral') }}
-- The raw payload of each movie's latest successful fetch: the input every exploded silver
-- model (genres, companies, countries, languages, directors, cast) unnests.
-- Read from bronze: silver.tmdb_movie_snapshots keeps typed columns only, not the raw body.
select bronze.movie_id, bronze.payload
from {{ source('bronze', 'tmdb_movies') }} as bronze
inner join {{ ref('tmdb_movies') }} as movies
    on bronze.movie_id = movies.movie_id
    and bronze.partition_date = movies.snapshot_date
where bronze.http_status = 200
