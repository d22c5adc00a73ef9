{#- Readers for provider deliveries (bronze.critic_agg, audience_pulse, box_office_*), whose
    values arrive as text: OMDb strings ("7.8", "1,064,516", "82%", "83/100", "N/A"),
    money as "$1,234,567" or 41711, dates as "Jun 12 1998" or "1998-06-12".
    Each reader returns NULL for text it cannot read. Models read and check each provider
    column with provider_parse and provider_bounded, from its type and bounds declared once in
    var provider_columns (dbt_project.yml; movie_assets/providers/contract.py checks
    deliveries against the same declaration before landing), so an unreadable or out-of-range
    value is NULL plus a reason, never a dropped row. -#}

{#- Trimmed text, with empty and OMDb's "N/A" as NULL. -#}
{% macro provider_text(column) -%}
    nullif(nullif(trim({{ column }}), ''), 'N/A')
{%- endmacro %}

{#- Whole number (USD amount or count) as BIGINT: "$1,234,567", "1,064,516", "41711".
    A decimal such as "126.404" is NULL: cast would round it, and whether the dot is a
    thousands separator cannot be told. -#}
{% macro provider_whole_number(column) -%}
    {%- set digits = regexp_replace_all(provider_text(column), '[$,\s]', '') -%}
    case
        when {{ regexp_full_match(digits, '[0-9]{1,18}') }}
            then cast({{ digits }} as bigint)
    end
{%- endmacro %}

{#- IMDb title id ("tt" and 7-10 digits) as text; anything else is NULL. -#}
{% macro provider_imdb_id(column) -%}
    case when {{ regexp_full_match(provider_text(column), 'tt[0-9]{7,10}') }}
        then {{ provider_text(column) }} end
{%- endmacro %}

{#- Decimal number with an optional fixed suffix regex: suffix='%' reads "82%",
    suffix='/10' reads "7.8/10" on its own 0-10 scale; without a suffix a bare "7.8". -#}
{% macro provider_decimal(column, suffix='') -%}
    try_cast(nullif(regexp_extract({{ provider_text(column) }}, {{ regex('^([0-9]+(\.[0-9]+)?)\s*' ~ suffix ~ '$') }}, 1), '') as double)
{%- endmacro %}

{#- Date from "Jun 12 1998" (vega-datasets) or ISO "1998-06-12". -#}
{% macro provider_date(column) -%}
    cast(coalesce(
        {{ try_parse_date(provider_text(column), '%b %d %Y') }},
        {{ try_parse_date(provider_text(column), '%Y-%m-%d') }}
    ) as date)
{%- endmacro %}

{#- Four-digit year at the start: "2009", and OMDb series ranges such as "2017–". -#}
{% macro provider_year(column) -%}
    try_cast(nullif(regexp_extract({{ provider_text(column) }}, {{ regex('^([0-9]{4})(–|-)?([0-9]{4})?$') }}, 1), '') as integer)
{%- endmacro %}

{#- One provider column's checked value and its quality flag, from one declaration of its
    reader's result (`parsed`, read from `raw`) and its bounds, so the range that nulls the
    value is the range the flag names.

    Returns a dict of two SQL expressions:
      value: `parsed` if it lies in [min_value, max_value] (or no bounds are given), else NULL;
      flag: why `value` is NULL although `raw` holds text: 'name: unreadable "raw"' or
        'name: out of range [min, max] "raw"'; NULL when the value is fine or absent. -#}
{% macro provider_checked(name, raw, parsed, min_value=none, max_value=none) %}
    {%- set value -%}
        {%- if min_value is none -%}
            {{ parsed }}
        {%- else -%}
            case when {{ parsed }} between {{ min_value }} and {{ max_value }} then {{ parsed }} end
        {%- endif -%}
    {%- endset -%}
    {%- set flag -%}
    case
        when {{ provider_text(raw) }} is not null and {{ parsed }} is null
            then '{{ name }}: unreadable "' || {{ provider_text(raw) }} || '"'
        {%- if min_value is not none %}
        when not ({{ parsed }} between {{ min_value }} and {{ max_value }})
            then '{{ name }}: out of range [' || cast({{ min_value }} as {{ dbt.type_string() }}) || ', ' || cast({{ max_value }} as {{ dbt.type_string() }}) || '] "' || {{ provider_text(raw) }} || '"'
        {%- endif %}
    end
    {%- endset -%}
    {{ return({'value': value, 'flag': flag}) }}
{% endmacro %}

{#- The declaration of one provider column in var provider_columns (dbt_project.yml): a dict
    with type, optional suffix, min, max or max_years_after_delivery. -#}
{% macro provider_column(table, column) %}
    {%- set declared = var('provider_columns').get(table, {}) -%}
    {%- if column not in declared -%}
        {{ exceptions.raise_compiler_error("var provider_columns declares no column '" ~ column ~ "' of bronze." ~ table) }}
    {%- endif -%}
    {{ return(declared[column]) }}
{% endmacro %}

{#- `expr` (text) read as provider_columns declares `table`.`column`'s type. -#}
{% macro provider_parse(table, column, expr) -%}
    {%- set spec = provider_column(table, column) -%}
    {%- if spec.type == 'whole_number' -%}{{ provider_whole_number(expr) }}
    {%- elif spec.type == 'decimal' -%}{{ provider_decimal(expr, spec.get('suffix', '')) }}
    {%- elif spec.type == 'year' -%}{{ provider_year(expr) }}
    {%- elif spec.type == 'date' -%}{{ provider_date(expr) }}
    {%- elif spec.type == 'imdb_id' -%}{{ provider_imdb_id(expr) }}
    {%- else -%}{{ exceptions.raise_compiler_error("provider_columns: unknown type '" ~ spec.type ~ "' of " ~ table ~ "." ~ column) }}
    {%- endif -%}
{%- endmacro %}

{#- One bound of a provider_columns declaration as SQL (none when it has none): a date as a
    date literal, max_years_after_delivery as the year of the row's loaded_at plus N. -#}
{% macro provider_bound(spec, which) -%}
    {%- if which == 'max' and spec.get('max_years_after_delivery') is not none -%}
        {{ return('(year(loaded_at) + ' ~ spec.max_years_after_delivery ~ ')') }}
    {%- elif spec.get(which) is none -%}
        {{ return(none) }}
    {%- elif spec.type == 'date' -%}
        {{ return("date '" ~ spec[which] ~ "'") }}
    {%- else -%}
        {{ return(spec[which] | string) }}
    {%- endif -%}
{%- endmacro %}

{#- provider_checked with the bounds provider_columns declares for `table`.`column`. -#}
{% macro provider_bounded(table, column, name, raw, parsed) %}
    {%- set spec = provider_column(table, column) -%}
    {{ return(provider_checked(name, raw, parsed, provider_bound(spec, 'min'), provider_bound(spec, 'max'))) }}
{% endmacro %}

{#- Non-NULL entries of a list of flags (provider_checked flags and models' own checks). -#}
{% macro provider_flags(flags) -%}
    {{ non_null_list(flags) }}
{%- endmacro %}

{#- Title key for matching across sources: lower case, accents stripped, "&" read as
    "and", a leading "The " or trailing ", The" dropped, then only letters and digits. -#}
{% macro normalize_title(column) -%}
    nullif({{ regexp_replace_all(
        regexp_replace_all(
            regexp_replace_all(strip_accents('lower(trim(' ~ column ~ '))'), '^the\s+|,\s*the$', ''),
            '&', 'and'
        ),
        '[^a-z0-9]+', ''
    ) }}, '')
{%- endmacro %}
