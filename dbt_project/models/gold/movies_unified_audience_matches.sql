-- silver.audience_ratings rows matched to TMDB films and to critic rows that matched no
-- TMDB film (those are films of their own in gold.movies_unified).
with critic_only_films as (
    {{ movies_unified_unmatched_films('critic_scores', 'critic_row_id', 'movies_unified_critic_matches', 'critic') }}
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
),

candidates as (
    select
        audience_row_id as row_id,
        imdb_id,
        title_key,
        release_year
    from {{ ref('audience_ratings') }}
),

{{ movies_unified_match('spine', 'candidates') }}
