-- One typed row per TMDB movie: the latest successful fetch across all daily partitions.
with successful_fetches as (
    select movie_id, payload, fetched_at, partition_date
    from {{ source('bronze', 'tmdb_movies') }}
    where http_status = 200
),

latest_fetch as (
    select *
    from successful_fetches
    qualify row_number() over (
        partition by movie_id order by partition_date desc, fetched_at desc
    ) = 1
)

select
    movie_id,
    nullif(payload ->> '$.imdb_id', '') as imdb_id,
    payload ->> '$.title' as title,
    payload ->> '$.original_title' as original_title,
    try_cast(nullif(payload ->> '$.release_date', '') as date) as release_date,
    cast(payload ->> '$.vote_average' as double) as vote_average,
    cast(payload ->> '$.vote_count' as bigint) as vote_count,
    cast(payload ->> '$.popularity' as double) as popularity,
    list_sort(cast(json_extract_string(payload, '$.genres[*].name') as varchar[])) as genre_names,
    partition_date as snapshot_date,
    fetched_at
from latest_fetch
