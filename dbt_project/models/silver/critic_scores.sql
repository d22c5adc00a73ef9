-- Critic scores (provider 1, Wikidata): one typed row per delivered CSV row, none dropped.
{#- A checked column's type and bounds are declared once, in var provider_columns
    (dbt_project.yml): its value and its quality flag below both come from that declaration. #}
{%- set imdb_id = provider_bounded('critic_agg', 'IMDb ID', 'imdb_id', 'raw_imdb_id', 'parsed_imdb_id') %}
{%- set release_year = provider_bounded('critic_agg', 'Release Year', 'release_year', 'raw_release_year', 'parsed_release_year') %}
{%- set tomatometer_pct = provider_bounded('critic_agg', 'Tomatometer', 'tomatometer_pct', 'raw_tomatometer', 'parsed_tomatometer_pct') %}
{%- set critic_review_count = provider_bounded(
    'critic_agg', 'Critic Reviews', 'critic_review_count', 'raw_critic_reviews', 'parsed_critic_review_count'
) %}
{%- set fresh_review_count = provider_bounded('critic_agg', 'Fresh', 'fresh_review_count', 'raw_fresh', 'parsed_fresh_review_count') %}
{%- set rotten_review_count = provider_bounded('critic_agg', 'Rotten', 'rotten_review_count', 'raw_rotten', 'parsed_rotten_review_count') %}
{%- set average_critic_score = provider_bounded(
    'critic_agg', 'Average Critic Score', 'average_critic_score', 'raw_average_critic_score', 'parsed_average_critic_score'
) %}
{%- set metascore = provider_bounded('critic_agg', 'Metascore', 'metascore', 'raw_metascore', 'parsed_metascore') %}
{%- set box_office_usd = provider_bounded('critic_agg', 'Box Office (USD)', 'box_office_usd', 'raw_box_office', 'parsed_box_office_usd') %}
with delivered as (
    select * from {{ source('bronze', 'critic_agg') }}
),

parsed as (
    select
        source_row_number,
        {{ adapter.quote('Movie Title') }} as raw_title,
        {{ adapter.quote('Release Year') }} as raw_release_year,
        {{ adapter.quote('IMDb ID') }} as raw_imdb_id,
        {{ adapter.quote('Tomatometer') }} as raw_tomatometer,
        {{ adapter.quote('Critic Reviews') }} as raw_critic_reviews,
        {{ adapter.quote('Fresh') }} as raw_fresh,
        {{ adapter.quote('Rotten') }} as raw_rotten,
        {{ adapter.quote('Average Critic Score') }} as raw_average_critic_score,
        {{ adapter.quote('Metascore') }} as raw_metascore,
        {{ adapter.quote('Box Office (USD)') }} as raw_box_office,
        {{ provider_text(adapter.quote('Studio')) }} as studio,
        {{ provider_parse('critic_agg', 'Release Year', adapter.quote('Release Year')) }} as parsed_release_year,
        {{ provider_parse('critic_agg', 'IMDb ID', adapter.quote('IMDb ID')) }} as parsed_imdb_id,
        {{ provider_parse('critic_agg', 'Tomatometer', adapter.quote('Tomatometer')) }} as parsed_tomatometer_pct,
        {{ provider_parse('critic_agg', 'Critic Reviews', adapter.quote('Critic Reviews')) }} as parsed_critic_review_count,
        {{ provider_parse('critic_agg', 'Fresh', adapter.quote('Fresh')) }} as parsed_fresh_review_count,
        {{ provider_parse('critic_agg', 'Rotten', adapter.quote('Rotten')) }} as parsed_rotten_review_count,
        {{ provider_parse('critic_agg', 'Average Critic Score', adapter.quote('Average Critic Score')) }} as parsed_average_critic_score,
        {{ provider_parse('critic_agg', 'Metascore', adapter.quote('Metascore')) }} as parsed_metascore,
        {{ provider_parse('critic_agg', 'Box Office (USD)', adapter.quote('Box Office (USD)')) }} as parsed_box_office_usd,
        source_file,
        file_sha256,
        loaded_at
    from delivered
),

checked as (
    select
        source_row_number as critic_row_id,
        {{ imdb_id.value }} as imdb_id,
        {{ provider_text('raw_title') }} as title,
        {{ normalize_title('raw_title') }} as title_key,
        {{ release_year.value }} as release_year,
        {{ tomatometer_pct.value }} as tomatometer_pct,
        {{ critic_review_count.value }} as critic_review_count,
        {{ fresh_review_count.value }} as fresh_review_count,
        {{ rotten_review_count.value }} as rotten_review_count,
        {{ average_critic_score.value }} as average_critic_score,
        {{ metascore.value }} as metascore,
        studio,
        {{ box_office_usd.value }} as box_office_usd,
        {{ provider_flags([
            "case when " ~ provider_text('raw_title') ~ " is null then 'title: missing' end",
            imdb_id.flag,
            release_year.flag,
            tomatometer_pct.flag,
            critic_review_count.flag,
            fresh_review_count.flag,
            rotten_review_count.flag,
            average_critic_score.flag,
            metascore.flag,
            box_office_usd.flag,
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
