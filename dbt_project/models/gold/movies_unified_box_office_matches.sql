-- silver.box_office films matched to TMDB films, then to critic and audience rows that
-- are films of their own. Box office has no imdb_id: title + year only.
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

audience_only_films as (
    select
        'audience:' || audience.audience_row_id as film_key,
        audience.imdb_id,
        audience.title_key,
        audience.release_year,
        0 as title_rank
    from {{ ref('audience_ratings') }} as audience
    inner join {{ ref('movies_unified_audience_matches') }} as matched
        on audience.audience_row_id = matched.row_id
    where matched.match_method = 'unmatched'
),

spine as (
    select film_key, imdb_id, title_key, release_year, title_rank
    from {{ ref('movies_unified_tmdb_titles') }}
    union all
    select * from critic_only_films
    union all
    select * from audience_only_films
),

candidates as (
    select box_office_id as row_id, cast(null as varchar) as imdb_id, title_key, release_year
    from {{ ref('box_office') }}
),

{{ movies_unified_match('spine', 'candidates') }}
