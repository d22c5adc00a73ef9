-- Movie dimension: one row per TMDB movie, attributes as of its latest fetch.
with movies as (
    select * from {{ ref('tmdb_movies') }}
)

select
    movie_id,
    title,
    original_title,
    release_date,
    {{ date_id('release_date') }} as release_date_id,
    original_language,
    status,
    runtime_minutes,
    budget_usd,
    revenue_usd,
    profit_usd,
    roi,
    collection_id,
    collection_name,
    case
        when collection_id is not null then 'franchise'
        when collection_known then 'standalone'
        else 'unknown'
    end as franchise_segment,
    imdb_id,
    vote_average,
    vote_count,
    popularity,
    {{ join_list('genre_names', "', '") }} as genres,
    credits_known,
    snapshot_date as last_snapshot_date
from movies
