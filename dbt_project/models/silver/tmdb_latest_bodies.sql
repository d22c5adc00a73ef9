-- The body of each movie's latest successful TMDB fetch, parsed once into a typed struct: the
-- input of silver.tmdb_movies and of the exploded models (genres, companies, countries,
-- languages, cast, crew), which read its fields and lists instead of each re-reading
-- bronze and re-parsing the raw JSON.
{# Every body field silver reads, as a from_json shape (macro from_json) with their SQL types. A
   key the body lacks parses to NULL: a body without `credits` (not requested, or not known to
   the source) has NULL credits, not empty cast and crew lists. #}
{% set body_shape = {
    "imdb_id": "VARCHAR", "title": "VARCHAR", "original_title": "VARCHAR", "original_language": "VARCHAR",
    "status": "VARCHAR", "release_date": "VARCHAR", "runtime": "INTEGER",
    "belongs_to_collection": {"id": "BIGINT", "name": "VARCHAR"},
    "genres": [{"id": "BIGINT", "name": "VARCHAR"}],
    "production_companies": [{"id": "BIGINT", "name": "VARCHAR", "origin_country": "VARCHAR"}],
    "production_countries": [{"iso_3166_1": "VARCHAR", "name": "VARCHAR"}],
    "spoken_languages": [{"iso_639_1": "VARCHAR", "name": "VARCHAR"}],
    "credits": {
        "cast": [{"credit_id": "VARCHAR", "id": "BIGINT", "name": "VARCHAR", "gender": "INTEGER", "character": "VARCHAR", "order": "INTEGER"}],
        "crew": [{"credit_id": "VARCHAR", "id": "BIGINT", "name": "VARCHAR", "gender": "INTEGER", "department": "VARCHAR", "job": "VARCHAR"}]
    }
} %}
with latest_days as (
    -- (snapshot_date, movie_id) is unique in silver.tmdb_movie_snapshots (tested), so a
    -- movie's newest day names exactly one fetch. max() per movie, not a window: a window
    -- over 30M rows spilled at 1M movies x 30 days (bench/README.md, Transform).
    select
        movie_id,
        max(snapshot_date) as snapshot_date
    from {{ ref('tmdb_movie_snapshots') }}
    group by movie_id
),

latest_fetches as (
    select
        bronze.movie_id,
        bronze.partition_date,
        bronze.fetched_at,
        bronze.payload
    from {{ source('bronze', 'tmdb_movies') }} as bronze
    inner join latest_days
        on
            bronze.movie_id = latest_days.movie_id
            and bronze.partition_date = latest_days.snapshot_date
    where bronze.http_status = 200
)

select
    movie_id,
    partition_date as snapshot_date,
    fetched_at,
    {{ from_json('payload', body_shape) }} as body
from latest_fetches
