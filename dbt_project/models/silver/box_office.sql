-- Box office (provider 3, vega-datasets): the domestic, international and financials files
-- merged into one row per film, keyed by normalized title + release date. The three files
-- list the same films; rows are paired by title, release date as delivered and, for a
-- repeated pair, its occurrence in file order, so a film missing from one file still keeps
-- its row.
{#- A checked column's type and bounds are declared once, in var provider_columns
    (dbt_project.yml): its value and its quality flag below both come from that declaration.
    The three files share one Release Date declaration. #}
{%- set release_date = provider_bounded('box_office_domestic', 'Release Date', 'release_date', 'raw_release_date', 'parsed_release_date') %}
{%- set us_gross_usd = provider_bounded('box_office_domestic', 'US Gross', 'us_gross_usd', 'raw_us_gross', 'parsed_us_gross_usd') %}
{%- set worldwide_gross_usd = provider_bounded(
    'box_office_international', 'Worldwide Gross', 'worldwide_gross_usd', 'raw_worldwide_gross', 'parsed_worldwide_gross_usd'
) %}
{%- set international_gross_usd = provider_bounded(
    'box_office_international', 'International Gross', 'international_gross_usd', 'raw_international_gross', 'parsed_reported_international_gross_usd'
) %}
{%- set production_budget_usd = provider_bounded(
    'box_office_financials', 'Production Budget', 'production_budget_usd', 'raw_production_budget', 'parsed_production_budget_usd'
) %}
{%- set us_dvd_sales_usd = provider_bounded(
    'box_office_financials', 'US DVD Sales', 'us_dvd_sales_usd', 'raw_us_dvd_sales', 'parsed_us_dvd_sales_usd'
) %}
{%- set running_time_minutes = provider_bounded(
    'box_office_financials', 'Running Time min', 'running_time_minutes', 'raw_running_time', 'parsed_running_time_minutes'
) %}
{%- set occurrence_in_file = (
    'row_number() over (partition by ' ~ adapter.quote('Title') ~ ', ' ~ adapter.quote('Release Date')
    ~ ' order by source_row_number)'
) %}
with domestic as (
    select
        source_row_number,
        {{ adapter.quote('Title') }} as title,
        {{ adapter.quote('Release Date') }} as release_date_text,
        {{ adapter.quote('US Gross') }} as raw_us_gross,
        {{ provider_parse('box_office_domestic', 'US Gross', adapter.quote('US Gross')) }} as parsed_us_gross_usd,
        loaded_at,
        {{ occurrence_in_file }} as occurrence
    from {{ source('bronze', 'box_office_domestic') }}
),

international as (
    select
        source_row_number,
        {{ adapter.quote('Title') }} as title,
        {{ adapter.quote('Release Date') }} as release_date_text,
        {{ adapter.quote('Worldwide Gross') }} as raw_worldwide_gross,
        {{ adapter.quote('International Gross') }} as raw_international_gross,
        {{ provider_parse('box_office_international', 'Worldwide Gross', adapter.quote('Worldwide Gross')) }} as parsed_worldwide_gross_usd,
        {{ provider_parse('box_office_international', 'International Gross', adapter.quote('International Gross')) }}
            as parsed_reported_international_gross_usd,
        loaded_at,
        {{ occurrence_in_file }} as occurrence
    from {{ source('bronze', 'box_office_international') }}
),

financials as (
    select
        source_row_number,
        {{ adapter.quote('Title') }} as title,
        {{ adapter.quote('Release Date') }} as release_date_text,
        {{ adapter.quote('Production Budget') }} as raw_production_budget,
        {{ adapter.quote('US DVD Sales') }} as raw_us_dvd_sales,
        {{ adapter.quote('Running Time min') }} as raw_running_time,
        {{ provider_parse('box_office_financials', 'Production Budget', adapter.quote('Production Budget')) }} as parsed_production_budget_usd,
        {{ provider_parse('box_office_financials', 'US DVD Sales', adapter.quote('US DVD Sales')) }} as parsed_us_dvd_sales_usd,
        {{ provider_parse('box_office_financials', 'Running Time min', adapter.quote('Running Time min')) }} as parsed_running_time_minutes,
        {{ provider_text(adapter.quote('Distributor')) }} as distributor,
        {{ provider_text(adapter.quote('MPAA Rating')) }} as mpaa_rating,
        {{ provider_text(adapter.quote('Major Genre')) }} as major_genre,
        {{ provider_text(adapter.quote('Creative Type')) }} as creative_type,
        {{ provider_text(adapter.quote('Source')) }} as source_material,
        {{ provider_text(adapter.quote('Director')) }} as director,
        loaded_at,
        {{ occurrence_in_file }} as occurrence
    from {{ source('bronze', 'box_office_financials') }}
),

paired as (
    select
        coalesce(domestic.title, international.title, financials.title) as raw_title,
        coalesce(domestic.release_date_text, international.release_date_text, financials.release_date_text) as raw_release_date,
        coalesce(domestic.occurrence, international.occurrence, financials.occurrence) as occurrence,
        domestic.source_row_number as domestic_row_number,
        international.source_row_number as international_row_number,
        financials.source_row_number as financials_row_number,
        domestic.raw_us_gross,
        domestic.parsed_us_gross_usd,
        international.raw_worldwide_gross,
        international.raw_international_gross,
        international.parsed_worldwide_gross_usd,
        international.parsed_reported_international_gross_usd,
        financials.raw_production_budget,
        financials.raw_us_dvd_sales,
        financials.raw_running_time,
        financials.parsed_production_budget_usd,
        financials.parsed_us_dvd_sales_usd,
        financials.parsed_running_time_minutes,
        financials.distributor,
        financials.mpaa_rating,
        financials.major_genre,
        financials.creative_type,
        financials.source_material,
        financials.director,
        greatest(domestic.loaded_at, international.loaded_at, financials.loaded_at) as loaded_at
    from domestic
    full outer join international
        on
            domestic.title is not distinct from international.title
            and domestic.release_date_text is not distinct from international.release_date_text
            and domestic.occurrence = international.occurrence
    full outer join financials
        on
            coalesce(domestic.title, international.title) is not distinct from financials.title
            and coalesce(domestic.release_date_text, international.release_date_text) is not distinct from financials.release_date_text
            and coalesce(domestic.occurrence, international.occurrence) = financials.occurrence
),

parsed as (
    select
        *,
        {{ provider_parse('box_office_domestic', 'Release Date', 'raw_release_date') }} as parsed_release_date,
        case
            when parsed_reported_international_gross_usd is not null then 'reported'
            when parsed_worldwide_gross_usd >= parsed_us_gross_usd then 'worldwide_minus_us_gross'
        end as international_gross_method
    from paired
),

checked as (
    select
        {{ normalize_title('raw_title') }} as title_key,
        {{ provider_text('raw_title') }} as title,
        {{ release_date.value }} as release_date,
        {{ provider_text('raw_release_date') }} as release_date_as_delivered,
        occurrence,
        {{ us_gross_usd.value }} as us_gross_usd,
        {{ worldwide_gross_usd.value }} as worldwide_gross_usd,
        case international_gross_method
            when 'reported' then parsed_reported_international_gross_usd
            when 'worldwide_minus_us_gross' then parsed_worldwide_gross_usd - parsed_us_gross_usd
        end as international_gross_usd,
        international_gross_method,
        {{ production_budget_usd.value }} as production_budget_usd,
        {{ us_dvd_sales_usd.value }} as us_dvd_sales_usd,
        {{ running_time_minutes.value }} as running_time_minutes,
        distributor,
        mpaa_rating,
        major_genre,
        creative_type,
        source_material,
        director,
        {{ provider_flags([
            "case when " ~ provider_text('raw_title') ~ " is null then 'title: missing' end",
            release_date.flag,
            us_gross_usd.flag,
            worldwide_gross_usd.flag,
            international_gross_usd.flag,
            "case when parsed_worldwide_gross_usd < parsed_us_gross_usd then 'international_gross_usd: worldwide gross below US gross' end",
            production_budget_usd.flag,
            us_dvd_sales_usd.flag,
            running_time_minutes.flag,
        ]) }} as quality_flags,
        domestic_row_number is not null as in_domestic,
        international_row_number is not null as in_international,
        financials_row_number is not null as in_financials,
        domestic_row_number,
        international_row_number,
        financials_row_number,
        loaded_at
    from parsed
)

select
    coalesce(title_key, '') || '|' || coalesce(cast(release_date as {{ dbt.type_string() }}), release_date_as_delivered, '')
    || case when occurrence > 1 then '|' || occurrence else '' end as box_office_id,
    year(release_date) as release_year,
    title_key,
    title,
    release_date,
    release_date_as_delivered,
    us_gross_usd,
    worldwide_gross_usd,
    international_gross_usd,
    international_gross_method,
    production_budget_usd,
    us_dvd_sales_usd,
    running_time_minutes,
    distributor,
    mpaa_rating,
    major_genre,
    creative_type,
    source_material,
    director,
    quality_flags,
    in_domestic,
    in_international,
    in_financials,
    domestic_row_number,
    international_row_number,
    financials_row_number,
    loaded_at
from checked
