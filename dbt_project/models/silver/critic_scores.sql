-- Critic scores (provider 1, Wikidata): one typed row per delivered CSV row, none dropped.
with delivered as (
    select * from {{ source('bronze', 'critic_agg') }}
),

parsed as (
    select
        source_row_number,
        "Movie Title" as raw_title,
        "Release Year" as raw_release_year,
        "IMDb ID" as raw_imdb_id,
        "Tomatometer" as raw_tomatometer,
        "Critic Reviews" as raw_critic_reviews,
        "Fresh" as raw_fresh,
        "Rotten" as raw_rotten,
        "Average Critic Score" as raw_average_critic_score,
        "Metascore" as raw_metascore,
        "Box Office (USD)" as raw_box_office,
        {{ provider_text('"Studio"') }} as studio,
        {{ provider_year('"Release Year"') }} as parsed_release_year,
        case when regexp_full_match({{ provider_text('"IMDb ID"') }}, 'tt[0-9]{7,10}')
            then {{ provider_text('"IMDb ID"') }} end as parsed_imdb_id,
        {{ provider_decimal('"Tomatometer"', '%?') }} as parsed_tomatometer_pct,
        {{ provider_whole_number('"Critic Reviews"') }} as parsed_critic_review_count,
        {{ provider_whole_number('"Fresh"') }} as parsed_fresh_review_count,
        {{ provider_whole_number('"Rotten"') }} as parsed_rotten_review_count,
        {{ provider_decimal('"Average Critic Score"', '(/10)?') }} as parsed_average_critic_score,
        {{ provider_decimal('"Metascore"', '(/100)?') }} as parsed_metascore,
        {{ provider_whole_number('"Box Office (USD)"') }} as parsed_box_office_usd,
        year(loaded_at) as delivery_year,
        source_file,
        file_sha256,
        loaded_at
    from delivered
),

checked as (
    select
        source_row_number as critic_row_id,
        parsed_imdb_id as imdb_id,
        {{ provider_text('raw_title') }} as title,
        {{ normalize_title('raw_title') }} as title_key,
        {{ provider_in_range('parsed_release_year', 1870, 'delivery_year') }} as release_year,
        {{ provider_in_range('parsed_tomatometer_pct', 0, 100) }} as tomatometer_pct,
        {{ provider_in_range('parsed_critic_review_count', 0, 1000000) }} as critic_review_count,
        {{ provider_in_range('parsed_fresh_review_count', 0, 1000000) }} as fresh_review_count,
        {{ provider_in_range('parsed_rotten_review_count', 0, 1000000) }} as rotten_review_count,
        {{ provider_in_range('parsed_average_critic_score', 0, 10) }} as average_critic_score,
        {{ provider_in_range('parsed_metascore', 0, 100) }} as metascore,
        studio,
        {{ provider_in_range('parsed_box_office_usd', 0, 10000000000) }} as box_office_usd,
        {{ provider_flags([
            "case when " ~ provider_text('raw_title') ~ " is null then 'title: missing' end",
            provider_flag('imdb_id', 'raw_imdb_id', 'parsed_imdb_id'),
            provider_flag('release_year', 'raw_release_year', 'parsed_release_year', 1870, 'delivery_year'),
            provider_flag('tomatometer_pct', 'raw_tomatometer', 'parsed_tomatometer_pct', 0, 100),
            provider_flag('critic_review_count', 'raw_critic_reviews', 'parsed_critic_review_count', 0, 1000000),
            provider_flag('fresh_review_count', 'raw_fresh', 'parsed_fresh_review_count', 0, 1000000),
            provider_flag('rotten_review_count', 'raw_rotten', 'parsed_rotten_review_count', 0, 1000000),
            provider_flag('average_critic_score', 'raw_average_critic_score', 'parsed_average_critic_score', 0, 10),
            provider_flag('metascore', 'raw_metascore', 'parsed_metascore', 0, 100),
            provider_flag('box_office_usd', 'raw_box_office', 'parsed_box_office_usd', 0, 10000000000),
        ]) }} as quality_flags,
        source_file,
        file_sha256,
        loaded_at
    from parsed
)

select
    *,
    imdb_id is not null and count(*) over (partition by imdb_id) > 1 as is_duplicate_imdb_id
from checked
