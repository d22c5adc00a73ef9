{{ config(materialized='ephemeral') }}
-- The raw payload of each movie's latest successful fetch: the input every exploded silver
-- model (genres, companies, countries, languages, directors, cast) unnests.
select snapshots.movie_id, snapshots.payload
from {{ ref('tmdb_movie_snapshots') }} as snapshots
inner join {{ ref('tmdb_movies') }} as movies
    on snapshots.movie_id = movies.movie_id
    and snapshots.snapshot_date = movies.snapshot_date
