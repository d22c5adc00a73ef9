-- silver.critic_scores rows matched to TMDB films (critic is matched first, against TMDB only).
with spine as (
    select
        film_key,
        imdb_id,
        title_key,
        release_year,
        title_rank
    from {{ ref('movies_unified_tmdb_titles') }}
),

candidates as (
    select
        critic_row_id as row_id,
        imdb_id,
        title_key,
        release_year
    from {{ ref('critic_scores') }}
),

{{ movies_unified_match('spine', 'candidates') }}
