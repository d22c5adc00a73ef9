-- Return on investment per genre. A film with several genres counts in each; only films
-- with a known budget and revenue count, and genres with fewer than
-- var('min_movies_per_genre') such films are left out.
with movies as (
    select * from {{ ref('dim_movie') }}
    where budget_usd is not null and revenue_usd is not null
),

movie_genres as (
    select * from {{ ref('bridge_movie_genre') }}
),

genres as (
    select * from {{ ref('dim_genre') }}
),

genre_movies as (
    select
        genres.genre_id,
        genres.genre_name,
        movies.*
    from movie_genres
    inner join movies on movie_genres.movie_id = movies.movie_id
    inner join genres on movie_genres.genre_id = genres.genre_id
),

per_genre as (
    select
        genre_id,
        genre_name,
        count(*) as total_movies,
        avg(roi) as avg_roi,
        median(roi) as median_roi,
        sum(revenue_usd) / sum(budget_usd) - 1 as portfolio_roi,
        -- 1 and 0, not 1.0 and 0.0: Spark averages a decimal as a decimal of 5 places.
        avg(case when profit_usd > 0 then 1 else 0 end) as pct_profitable,
        min(roi) as min_roi,
        max(roi) as max_roi,
        cast(sum(budget_usd) as bigint) as total_budget,
        cast(sum(revenue_usd) as bigint) as total_revenue,
        cast(sum(profit_usd) as bigint) as total_profit,
        avg(vote_average) as avg_vote_average,
        avg(popularity) as avg_popularity
    from genre_movies
    group by genre_id, genre_name
    having count(*) >= {{ var('min_movies_per_genre') }}
)

select
    genre_id,
    genre_name,
    total_movies,
    avg_roi,
    median_roi,
    portfolio_roi,
    pct_profitable,
    min_roi,
    max_roi,
    cast(rank() over (order by avg_roi desc) as integer) as roi_rank,
    cast(rank() over (order by portfolio_roi desc) as integer) as portfolio_roi_rank,
    total_budget,
    total_revenue,
    total_profit,
    avg_vote_average,
    avg_popularity,
    -- The rule itself, so a reader states it from the table rather than from dbt's vars.
    cast({{ var('min_movies_per_genre') }} as integer) as min_movies_per_genre
from per_genre
