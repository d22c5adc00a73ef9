-- silver.audience_ratings rows matched to TMDB films and to critic rows that matched no
-- TMDB film (those are films of their own in gold.movies_unified).
with critic_only_films as (
    select
        'critic:' || critic.critic_row_id as film_key,
        critic.imdb_id,
        critic.title_key,
        critic.release_year,
        0 as title_rank
    from {{ ref('critic_scores') }} as critic
    inner join {{ ref('movies_unified_critic_matches') }} as matched
        on critic.critic_row_id = matched.row_id
    where matched.match_method = 'unmatched'
),

spine as (
    select film_key, imdb_id, title_key, release_year, title_rank
    from {{ ref('movies_unified_tmdb_titles') }}
    union all
    select * from critic_only_films
),

candidates as (
    select audience_row_id as row_id, imdb_id, title_key, release_year
    from {{ ref('audience_ratings') }}
),

{{ movies_unified_match('spine', 'candidates') }}
