-- The TMDB films every provider is matched against: one row per (movie, title key), for
-- its title and, when it normalizes differently, its original title.
with movies as (
    select
        movie_id,
        imdb_id,
        title,
        original_title,
        release_date
    from {{ ref('tmdb_movies') }}
),

titles as (
    select
        movie_id,
        imdb_id,
        {{ normalize_title('title') }} as title_key,
        release_date,
        0 as title_rank
    from movies
    union all
    select
        movie_id,
        imdb_id,
        {{ normalize_title('original_title') }} as title_key,
        release_date,
        1 as title_rank
    from movies
    -- An original title equal to the title gives the same key: skip its (costly) normalizing.
    where original_title is distinct from title
)

select
    'tmdb:' || movie_id as film_key,
    movie_id,
    imdb_id,
    title_key,
    year(release_date) as release_year,
    title_rank
from titles
where title_key is not null
qualify row_number() over (partition by movie_id, title_key order by title_rank) = 1
