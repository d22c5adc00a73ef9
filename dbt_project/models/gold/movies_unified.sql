-- One row per film across TMDB, critic scores, audience ratings and box office (full
-- outer): every TMDB movie, plus every provider row that matched no earlier film, with the
-- providers' rows that matched attached. Sources are matched in the order TMDB, critic,
-- audience, box office (see macro movies_unified_match).
with tmdb as (
    select * from {{ ref('tmdb_movies') }}
),

critic as (
    select
        critic.*,
        matched.match_method,
        coalesce(matched.film_key, 'critic:' || critic.critic_row_id) as film_key
    from {{ ref('critic_scores') }} as critic
    inner join {{ ref('movies_unified_critic_matches') }} as matched on critic.critic_row_id = matched.row_id
),

audience as (
    select
        audience.*,
        matched.match_method,
        coalesce(matched.film_key, 'audience:' || audience.audience_row_id) as film_key
    from {{ ref('audience_ratings') }} as audience
    inner join {{ ref('movies_unified_audience_matches') }} as matched on audience.audience_row_id = matched.row_id
),

box_office as (
    select
        box_office.*,
        matched.match_method,
        coalesce(matched.film_key, 'box_office:' || box_office.box_office_id) as film_key
    from {{ ref('box_office') }} as box_office
    inner join {{ ref('movies_unified_box_office_matches') }} as matched on box_office.box_office_id = matched.row_id
),

films as (
    select 'tmdb:' || movie_id as film_key from tmdb
    union all
    select film_key from critic
    where match_method = 'unmatched'
    union all
    select film_key from audience
    where match_method = 'unmatched'
    union all
    select film_key from box_office
    where match_method = 'unmatched'
)

select
    films.film_key,
    tmdb.movie_id,
    coalesce(tmdb.imdb_id, critic.imdb_id, audience.imdb_id) as imdb_id,
    coalesce(tmdb.title, critic.title, audience.title, box_office.title) as title,
    tmdb.original_title,
    coalesce(tmdb.release_date, box_office.release_date) as release_date,
    coalesce(year(tmdb.release_date), critic.release_year, audience.release_year, box_office.release_year) as release_year,
    tmdb.movie_id is not null as in_tmdb,
    critic.match_method as critic_match,
    audience.match_method as audience_match,
    box_office.match_method as box_office_match,
    (tmdb.movie_id is not null)::integer + (critic.critic_row_id is not null)::integer
    + (audience.audience_row_id is not null)::integer + (box_office.box_office_id is not null)::integer as source_count,
    tmdb.vote_average as tmdb_vote_average,
    tmdb.vote_count as tmdb_vote_count,
    tmdb.popularity as tmdb_popularity,
    tmdb.budget_usd as tmdb_budget_usd,
    tmdb.revenue_usd as tmdb_revenue_usd,
    critic.critic_row_id,
    critic.tomatometer_pct,
    critic.average_critic_score,
    critic.critic_review_count,
    critic.metascore as critic_metascore,
    critic.box_office_usd as critic_box_office_usd,
    audience.audience_row_id,
    audience.imdb_rating,
    audience.imdb_votes,
    audience.rotten_tomatoes_pct as audience_rotten_tomatoes_pct,
    audience.metacritic_score as audience_metacritic_score,
    box_office.box_office_id,
    box_office.us_gross_usd,
    box_office.international_gross_usd,
    box_office.worldwide_gross_usd,
    box_office.international_gross_method,
    box_office.production_budget_usd
from films
left join tmdb on films.film_key = 'tmdb:' || tmdb.movie_id
left join critic on films.film_key = critic.film_key
left join audience on films.film_key = audience.film_key
left join box_office on films.film_key = box_office.film_key
