-- Audience ratings (provider 2, OMDb responses): one typed row per delivered object, none dropped.
with delivered as (
    select * from {{ source('bronze', 'audience_pulse') }}
),

ratings as (
    -- OMDb's ratings array holds one {source, value} per rating site.
    select
        source_row_number,
        max(rating ->> '$.value') filter (where rating ->> '$.source' = 'Internet Movie Database') as imdb_rating_text,
        max(rating ->> '$.value') filter (where rating ->> '$.source' = 'Rotten Tomatoes') as rotten_tomatoes_text,
        max(rating ->> '$.value') filter (where rating ->> '$.source' = 'Metacritic') as metacritic_text
    from delivered, unnest(cast(ratings as json[])) as site(rating)
    group by source_row_number
),

parsed as (
    select
        delivered.source_row_number,
        title as raw_title,
        "year" as raw_year,
        imdb_id as raw_imdb_id,
        imdb_rating as raw_imdb_rating,
        imdb_votes as raw_imdb_votes,
        ratings.rotten_tomatoes_text as raw_rotten_tomatoes,
        ratings.metacritic_text as raw_metacritic,
        {{ provider_year('"year"') }} as parsed_release_year,
        coalesce(trim("year") similar to '[0-9]{4}(–|-)([0-9]{4})?', false) as is_series,
        case when regexp_full_match({{ provider_text('imdb_id') }}, 'tt[0-9]{7,10}')
            then {{ provider_text('imdb_id') }} end as parsed_imdb_id,
        -- imdb_rating is the same figure as the "7.8/10" entry; the bare field wins when both exist.
        coalesce({{ provider_decimal('imdb_rating') }}, {{ provider_decimal('ratings.imdb_rating_text', '/10') }}) as parsed_imdb_rating,
        {{ provider_whole_number('imdb_votes') }} as parsed_imdb_votes,
        {{ provider_decimal('ratings.rotten_tomatoes_text', '%') }} as parsed_rotten_tomatoes_pct,
        {{ provider_decimal('ratings.metacritic_text', '/100') }} as parsed_metacritic_score,
        {{ provider_text('rated') }} as mpaa_rating,
        {{ provider_text('genre') }} as genres,
        {{ provider_text('"language"') }} as languages,
        {{ provider_text('country') }} as countries,
        year(loaded_at) + 1 as latest_year,
        ratings,
        source_file,
        file_sha256,
        loaded_at
    from delivered
    left join ratings on delivered.source_row_number = ratings.source_row_number
)

select
    source_row_number as audience_row_id,
    parsed_imdb_id as imdb_id,
    {{ provider_text('raw_title') }} as title,
    {{ normalize_title('raw_title') }} as title_key,
    {{ provider_in_range('parsed_release_year', 1870, 'latest_year') }} as release_year,
    is_series,
    mpaa_rating,
    {{ provider_in_range('parsed_imdb_rating', 0, 10) }} as imdb_rating,
    {{ provider_in_range('parsed_imdb_votes', 0, 100000000) }} as imdb_votes,
    {{ provider_in_range('parsed_rotten_tomatoes_pct', 0, 100) }} as rotten_tomatoes_pct,
    {{ provider_in_range('parsed_metacritic_score', 0, 100) }} as metacritic_score,
    genres,
    languages,
    countries,
    {{ provider_flags([
        "case when " ~ provider_text('raw_title') ~ " is null then 'title: missing' end",
        provider_flag('imdb_id', 'raw_imdb_id', 'parsed_imdb_id'),
        provider_flag('release_year', 'raw_year', 'parsed_release_year', 1870, 'latest_year'),
        provider_flag('imdb_rating', 'raw_imdb_rating', 'parsed_imdb_rating', 0, 10),
        provider_flag('imdb_votes', 'raw_imdb_votes', 'parsed_imdb_votes', 0, 100000000),
        provider_flag('rotten_tomatoes_pct', 'raw_rotten_tomatoes', 'parsed_rotten_tomatoes_pct', 0, 100),
        provider_flag('metacritic_score', 'raw_metacritic', 'parsed_metacritic_score', 0, 100),
    ]) }} as quality_flags,
    ratings as ratings_json,
    source_file,
    file_sha256,
    loaded_at
from parsed
