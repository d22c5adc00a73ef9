-- silver.box_office films matched to TMDB films, then to critic and audience rows that
-- are films of their own. Box office has no imdb_id: title + year only.
with critic_only_films as (
    {{ movies_unified_unmatched_films('critic_scores', 'critic_row_id', 'movies_unified_critic_matches', 'critic') }}
),

audience_only_films as (
    {{ movies_unified_unmatched_films('audience_ratings', 'audience_row_id', 'movies_unified_audience_matches', 'audience') }}
),

spine as (
    select
        film_key,
        imdb_id,
        title_key,
        release_year,
        title_rank
    from {{ ref('movies_unified_tmdb_titles') }}
    union all
    select * from critic_only_films
    union all
    select * from audience_only_films
),

candidates as (
    select
        box_office_id as row_id,
        cast(null as {{ dbt.type_string() }}) as imdb_id,
        title_key,
        release_year
    from {{ ref('box_office') }}
),

{{ movies_unified_match('spine', 'candidates') }}
