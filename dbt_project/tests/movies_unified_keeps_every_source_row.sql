{{ config(meta={'dagster': {'asset_key': ['gold', 'movies_unified']}}) }}
-- gold.movies_unified is a full outer union: every TMDB movie and every provider row lands
-- in exactly one film. Returns the sources whose counts differ.
with expected as (
    select
        'tmdb' as source,
        count(*) as source_rows
    from {{ ref('tmdb_movies') }}
    union all
    select
        'critic' as source,
        count(*) as source_rows
    from {{ ref('critic_scores') }}
    union all
    select
        'audience' as source,
        count(*) as source_rows
    from {{ ref('audience_ratings') }}
    union all
    select
        'box_office' as source,
        count(*) as source_rows
    from {{ ref('box_office') }}
),

unified as (
    select
        'tmdb' as source,
        count(movie_id) as unified_rows
    from {{ ref('movies_unified') }}
    union all
    select
        'critic' as source,
        count(critic_row_id) as unified_rows
    from {{ ref('movies_unified') }}
    union all
    select
        'audience' as source,
        count(audience_row_id) as unified_rows
    from {{ ref('movies_unified') }}
    union all
    select
        'box_office' as source,
        count(box_office_id) as unified_rows
    from {{ ref('movies_unified') }}
)

select
    expected.source,
    expected.source_rows,
    unified.unified_rows
from expected
inner join unified on expected.source = unified.source
where expected.source_rows <> unified.unified_rows
