-- Audience ratings (provider 2, OMDb responses): one typed row per delivered object, none dropped.
{#- A checked column's type and bounds are declared once, in var provider_columns
    (dbt_project.yml): its value and its quality flag below both come from that declaration. #}
{%- set imdb_id = provider_bounded('audience_pulse', 'imdb_id', 'imdb_id', 'raw_imdb_id', 'parsed_imdb_id') %}
{%- set release_year = provider_bounded('audience_pulse', 'year', 'release_year', 'raw_year', 'parsed_release_year') %}
{%- set imdb_rating = provider_bounded('audience_pulse', 'imdb_rating', 'imdb_rating', 'raw_imdb_rating', 'parsed_imdb_rating') %}
{%- set imdb_votes = provider_bounded('audience_pulse', 'imdb_votes', 'imdb_votes', 'raw_imdb_votes', 'parsed_imdb_votes') %}
{%- set rotten_tomatoes_pct = provider_bounded(
    'audience_pulse', 'ratings[Rotten Tomatoes]', 'rotten_tomatoes_pct', 'raw_rotten_tomatoes', 'parsed_rotten_tomatoes_pct'
) %}
{%- set metacritic_score = provider_bounded(
    'audience_pulse', 'ratings[Metacritic]', 'metacritic_score', 'raw_metacritic', 'parsed_metacritic_score'
) %}
with delivered as (
    select * from {{ source('bronze', 'audience_pulse') }}
),

ratings as (
    -- OMDb's ratings array holds one {source, value} per rating site.
    select
        delivered.source_row_number,
        max(rating.value) filter (where rating.source = 'Internet Movie Database') as imdb_rating_text,
        max(rating.value) filter (where rating.source = 'Rotten Tomatoes') as rotten_tomatoes_text,
        max(rating.value) filter (where rating.source = 'Metacritic') as metacritic_text
    from delivered, {{ unnest_list(from_json('ratings', [{'source': 'VARCHAR', 'value': 'VARCHAR'}])) }} as site (rating)
    group by delivered.source_row_number
),

parsed as (
    select
        delivered.source_row_number,
        delivered.title as raw_title,
        delivered.{{ adapter.quote('year') }} as raw_year,
        delivered.imdb_id as raw_imdb_id,
        delivered.imdb_rating as raw_imdb_rating,
        delivered.imdb_votes as raw_imdb_votes,
        ratings.rotten_tomatoes_text as raw_rotten_tomatoes,
        ratings.metacritic_text as raw_metacritic,
        {{ provider_parse('audience_pulse', 'year', adapter.quote('year')) }} as parsed_release_year,
        coalesce({{ regexp_full_match('trim(' ~ adapter.quote('year') ~ ')', '[0-9]{4}(–|-)([0-9]{4})?') }}, false) as is_series,
        {{ provider_parse('audience_pulse', 'imdb_id', 'imdb_id') }} as parsed_imdb_id,
        -- imdb_rating is the same figure as the "7.8/10" entry; the bare field wins when both exist.
        coalesce(
            {{ provider_parse('audience_pulse', 'imdb_rating', 'imdb_rating') }}, {{ provider_decimal('ratings.imdb_rating_text', '/10') }}
        ) as parsed_imdb_rating,
        {{ provider_parse('audience_pulse', 'imdb_votes', 'imdb_votes') }} as parsed_imdb_votes,
        {{ provider_parse('audience_pulse', 'ratings[Rotten Tomatoes]', 'ratings.rotten_tomatoes_text') }} as parsed_rotten_tomatoes_pct,
        {{ provider_parse('audience_pulse', 'ratings[Metacritic]', 'ratings.metacritic_text') }} as parsed_metacritic_score,
        {{ provider_text('rated') }} as mpaa_rating,
        {{ provider_text('genre') }} as genres,
        {{ provider_text(adapter.quote('language')) }} as languages,
        {{ provider_text('country') }} as countries,
        delivered.ratings,
        delivered.source_file,
        delivered.file_sha256,
        delivered.loaded_at
    from delivered
    left join ratings on delivered.source_row_number = ratings.source_row_number
)

select
    source_row_number as audience_row_id,
    {{ imdb_id.value }} as imdb_id,
    {{ provider_text('raw_title') }} as title,
    {{ normalize_title('raw_title') }} as title_key,
    {{ release_year.value }} as release_year,
    is_series,
    mpaa_rating,
    {{ imdb_rating.value }} as imdb_rating,
    {{ imdb_votes.value }} as imdb_votes,
    {{ rotten_tomatoes_pct.value }} as rotten_tomatoes_pct,
    {{ metacritic_score.value }} as metacritic_score,
    genres,
    languages,
    countries,
    {{ provider_flags([
        "case when " ~ provider_text('raw_title') ~ " is null then 'title: missing' end",
        imdb_id.flag,
        release_year.flag,
        imdb_rating.flag,
        imdb_votes.flag,
        rotten_tomatoes_pct.flag,
        metacritic_score.flag,
    ]) }} as quality_flags,
    ratings as ratings_json,
    source_file,
    file_sha256,
    loaded_at
from parsed
