{#- Small expressions whose syntax differs between the two engines (var engine: DuckDB or
    Spark SQL), one dispatch macro each, so that every model has one SQL for both engines.
    default__ is DuckDB's form, spark__ Spark's. -#}


{#- from_json(column, shape): `column` (JSON text) parsed into a typed struct.
    shape: dict of field name -> type, where a type is a DuckDB type name (VARCHAR, BIGINT,
      INTEGER, DOUBLE), a dict (a nested object) or a one-element list [type] (a JSON array).
    Returns the from_json call. Why: both engines have from_json, but DuckDB takes the shape
    as a JSON sample and Spark as a DDL type string; one shape declaration renders either. A
    key the JSON lacks, or a value of the wrong type, parses to NULL on both. -#}
{% macro from_json(column, shape) -%}
    {{ return(adapter.dispatch('from_json', 'movies')(column, shape)) }}
{%- endmacro %}

{% macro default__from_json(column, shape) -%}
    {#- dbt's tojson() keeps the declaration order of the fields (it does not sort keys). -#}
    from_json({{ column }}, '{{ tojson(shape) }}')
{%- endmacro %}

{% macro spark__from_json(column, shape) -%}
    from_json({{ column }}, '{{ json_shape_spark(shape) }}')
{%- endmacro %}

{#- json_shape_spark(shape): Spark's DDL type string of a from_json shape (field names
    back-quoted: TMDB's `order` is a keyword). -#}
{% macro json_shape_spark(shape) -%}
    {%- if shape is mapping -%}
        STRUCT<{% for name, type in shape.items() %}`{{ name }}`: {{ json_shape_spark(type) }}{{ ', ' if not loop.last }}{% endfor %}>
    {%- elif shape is string -%}
        {{ {'VARCHAR': 'STRING'}.get(shape | upper, shape | upper) }}
    {%- else -%}
        ARRAY<{{ json_shape_spark(shape[0]) }}>
    {%- endif -%}
{%- endmacro %}


{#- unnest_list(list): table function with one row per element of `list`, for a FROM clause
    as `from t, {{ unnest_list('t.xs') }} as alias(element)`. A NULL or empty list gives no
    row. Why: DuckDB's unnest is Spark's lateral explode. -#}
{% macro unnest_list(list) -%}
    {{ return(adapter.dispatch('unnest_list', 'movies')(list)) }}
{%- endmacro %}

{% macro default__unnest_list(list) -%}
    unnest({{ list }})
{%- endmacro %}

{% macro spark__unnest_list(list) -%}
    lateral explode({{ list }})
{%- endmacro %}


{#- non_null_list(items): the list of the non-NULL values among `items` (SQL expressions of
    one type), in their order; empty when all are NULL. Why: list literals and lambdas are
    spelled differently ([..] and `lambda x:` in DuckDB, array(..) and `x ->` in Spark). -#}
{% macro non_null_list(items) -%}
    {{ return(adapter.dispatch('non_null_list', 'movies')(items)) }}
{%- endmacro %}

{% macro default__non_null_list(items) -%}
    list_filter([{{ items | join(', ') }}], lambda flag: flag is not null)
{%- endmacro %}

{% macro spark__non_null_list(items) -%}
    filter(array({{ items | join(', ') }}), flag -> flag is not null)
{%- endmacro %}


{#- values_fingerprint(columns): a 64-bit hash (BIGINT-sized integer) of the values of
    `columns` (column names), equal for equal values, NULLs included, and different for
    different values except with probability 2^-64 per compared pair. Why: telling whether a
    row's values differ from the row before by one window over a narrow column is several
    times faster than one window carrying every column (gold.dim_movie_history); DuckDB's
    hash() is positional over NULLs, Spark's xxhash64() skips NULL arguments, so Spark also
    hashes a NULL flag per column. -#}
{% macro values_fingerprint(columns) -%}
    {{ return(adapter.dispatch('values_fingerprint', 'movies')(columns)) }}
{%- endmacro %}

{% macro default__values_fingerprint(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__values_fingerprint(columns) -%}
    xxhash64({% for column in columns %}{{ column }}, isnull({{ column }}){{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}


{#- sorted_list_field(list, field): the values of `field` of every struct in `list`, sorted
    ascending with NULLs last; an empty list when `list` is NULL. Why: lambda and list
    function names differ; both engines sort NULLs last here. -#}
{% macro sorted_list_field(list, field) -%}
    {{ return(adapter.dispatch('sorted_list_field', 'movies')(list, field)) }}
{%- endmacro %}

{% macro default__sorted_list_field(list, field) -%}
    list_sort(coalesce(list_transform({{ list }}, lambda entry: entry.{{ field }}), []))
{%- endmacro %}

{% macro spark__sorted_list_field(list, field) -%}
    array_sort(coalesce(transform({{ list }}, entry -> entry.{{ field }}), array()))
{%- endmacro %}


{#- join_list(list, separator): the list's non-NULL elements (text) joined by `separator`
    (a SQL string literal); '' for an empty list. Why: DuckDB's array_to_string is Spark's
    array_join (both skip NULLs). -#}
{% macro join_list(list, separator) -%}
    {{ return(adapter.dispatch('join_list', 'movies')(list, separator)) }}
{%- endmacro %}

{% macro default__join_list(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}

{% macro spark__join_list(list, separator) -%}
    array_join({{ list }}, {{ separator }})
{%- endmacro %}


{#- mode_first(column): aggregate, the most frequent non-NULL value of `column`, ties going
    to the value sorting first. Why: DuckDB orders mode's ties with `order by`, Spark with
    mode's deterministic flag; a plain mode() picks either tie. -#}
{% macro mode_first(column) -%}
    {{ return(adapter.dispatch('mode_first', 'movies')(column)) }}
{%- endmacro %}

{% macro default__mode_first(column) -%}
    mode({{ column }} order by {{ column }})
{%- endmacro %}

{% macro spark__mode_first(column) -%}
    mode({{ column }}, true)
{%- endmacro %}


{#- distinct_sorted_string_agg(column, separator): aggregate, the distinct non-NULL values of
    `column` sorted and joined by `separator` (a SQL string literal); NULL when there are
    none. Why: DuckDB orders string_agg inside its parentheses; Spark's string_agg(distinct)
    WITHIN GROUP fails on a table in Spark 4.3 (ClassCastException), so Spark sorts the set of
    values instead. -#}
{% macro distinct_sorted_string_agg(column, separator) -%}
    {{ return(adapter.dispatch('distinct_sorted_string_agg', 'movies')(column, separator)) }}
{%- endmacro %}

{% macro default__distinct_sorted_string_agg(column, separator) -%}
    string_agg(distinct {{ column }}, {{ separator }} order by {{ column }})
{%- endmacro %}

{% macro spark__distinct_sorted_string_agg(column, separator) -%}
    case when count({{ column }}) > 0 then array_join(array_sort(collect_set({{ column }})), {{ separator }}) end
{%- endmacro %}


{#- regex(pattern): `pattern` as a SQL string literal passed to the regex engine unchanged.
    Why: a DuckDB string keeps backslashes (\s, \.), a Spark string unescapes them unless raw
    (r'...'). -#}
{% macro regex(pattern) -%}
    {{ return(adapter.dispatch('regex', 'movies')(pattern)) }}
{%- endmacro %}

{% macro default__regex(pattern) -%}
    '{{ pattern }}'
{%- endmacro %}

{% macro spark__regex(pattern) -%}
    r'{{ pattern }}'
{%- endmacro %}


{#- regexp_full_match(column, pattern): true when the whole of `column` matches the regex
    `pattern`, NULL for NULL. Why: DuckDB has regexp_full_match; Spark's rlike matches
    anywhere, so the pattern is anchored. -#}
{% macro regexp_full_match(column, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'movies')(column, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(column, pattern) -%}
    regexp_full_match({{ column }}, {{ regex(pattern) }})
{%- endmacro %}

{% macro spark__regexp_full_match(column, pattern) -%}
    regexp_like({{ column }}, {{ regex('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}


{#- regexp_replace_all(column, pattern, replacement): `column` with every match of the regex
    `pattern` replaced by the text `replacement`. Why: DuckDB replaces the first match
    unless given 'g', Spark replaces all. -#}
{% macro regexp_replace_all(column, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'movies')(column, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(column, pattern, replacement) -%}
    regexp_replace({{ column }}, {{ regex(pattern) }}, '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(column, pattern, replacement) -%}
    regexp_replace({{ column }}, {{ regex(pattern) }}, '{{ replacement }}')
{%- endmacro %}


{#- strip_accents(column): `column` with accents removed ("é" -> "e"), NULL for NULL. Why:
    Spark SQL has no strip_accents. DuckDB's decomposes canonically (NFD) and drops the marks;
    Spark does the same with the ICU4J it ships (Normalizer.decompose through reflect, which
    would read a NULL as the text "null"). Not Commons Lang's stripAccents: it decomposes
    compatibly (NFKD), turning "Alien³" into "Alien3" and "33⅓" into "331⁄3", so titles would
    match differently than on DuckDB. -#}
{% macro strip_accents(column) -%}
    {{ return(adapter.dispatch('strip_accents', 'movies')(column)) }}
{%- endmacro %}

{% macro default__strip_accents(column) -%}
    strip_accents({{ column }})
{%- endmacro %}

{% macro spark__strip_accents(column) -%}
    case when {{ column }} is not null
        then regexp_replace(reflect('com.ibm.icu.text.Normalizer', 'decompose', {{ column }}, false), {{ regex('\\p{M}') }}, '')
    end
{%- endmacro %}


{#- try_parse_date(column, format): the DATE read from text `column` with a strptime format
    (%b %d %m %Y only), NULL when it does not match. Why: DuckDB has try_strptime, Spark
    try_to_timestamp with Java's pattern letters. -#}
{% macro try_parse_date(column, format) -%}
    {{ return(adapter.dispatch('try_parse_date', 'movies')(column, format)) }}
{%- endmacro %}

{% macro default__try_parse_date(column, format) -%}
    try_strptime({{ column }}, '{{ format }}')
{%- endmacro %}

{% macro spark__try_parse_date(column, format) -%}
    {%- set java_format = format.replace('%b', 'MMM').replace('%d', 'd').replace('%m', 'M').replace('%Y', 'yyyy') -%}
    try_to_timestamp({{ column }}, '{{ java_format }}')
{%- endmacro %}


{#- date_id(day): the yyyymmdd integer key of DATE `day` (2026-11-30 -> 20261130), as INTEGER.
    One expression both engines accept, instead of formatting the date as text. -#}
{% macro date_id(day) -%}
    cast(year({{ day }}) * 10000 + month({{ day }}) * 100 + day({{ day }}) as integer)
{%- endmacro %}


{#- day_series(first_day, last_day): select expression, one row per day from DATE first_day
    to DATE last_day inclusive, as the DATE column date_day. Why: DuckDB unnests
    generate_series, Spark explodes sequence. dbt's own date_spine needs its bounds at compile
    time (a query), dim_date computes them in a CTE; and a macro of ours named date_spine would
    answer dbt's dispatch of dbt.date_spine in this project. -#}
{% macro day_series(first_day, last_day) -%}
    {{ return(adapter.dispatch('day_series', 'movies')(first_day, last_day)) }}
{%- endmacro %}

{% macro default__day_series(first_day, last_day) -%}
    cast(unnest(generate_series({{ first_day }}, {{ last_day }}, interval 1 day)) as date) as date_day
{%- endmacro %}

{% macro spark__day_series(first_day, last_day) -%}
    explode(sequence({{ first_day }}, {{ last_day }}, interval 1 day)) as date_day
{%- endmacro %}


{#- calendar_parts(day): dict of SQL expressions over DATE `day`: month_name and
    weekday_name (English), iso_year (ISO 8601 week-numbering year), iso_weekday (1 = Monday
    .. 7 = Sunday). Why: DuckDB has monthname, dayname, isoyear, isodow; Spark formats names
    with date_format and takes the ISO parts through extract. -#}
{% macro calendar_parts(day) -%}
    {{ return(adapter.dispatch('calendar_parts', 'movies')(day)) }}
{%- endmacro %}

{% macro default__calendar_parts(day) -%}
    {{ return({
        'month_name': 'monthname(' ~ day ~ ')',
        'weekday_name': 'dayname(' ~ day ~ ')',
        'iso_year': 'isoyear(' ~ day ~ ')',
        'iso_weekday': 'isodow(' ~ day ~ ')',
    }) }}
{%- endmacro %}

{% macro spark__calendar_parts(day) -%}
    {{ return({
        'month_name': "date_format(" ~ day ~ ", 'MMMM')",
        'weekday_name': "date_format(" ~ day ~ ", 'EEEE')",
        'iso_year': 'extract(YEAROFWEEK from ' ~ day ~ ')',
        'iso_weekday': 'extract(DAYOFWEEK_ISO from ' ~ day ~ ')',
    }) }}
{%- endmacro %}


{#- view_materialization(): the materialization of a model meant as a view: 'view' on DuckDB,
    'table' on Spark. Why: the run copies Spark's tables (Parquet folders) into the DuckDB
    build file after each model and cannot evaluate a Spark view's SQL, so on Spark these
    models are tables holding the same rows. -#}
{% macro view_materialization() -%}
    {{ return('table' if target.type == 'spark' else 'view') }}
{%- endmacro %}


{#- utc_timestamp(column): the TIMESTAMP WITH TIME ZONE `column` as a plain timestamp of its
    UTC wall-clock time, so that it compares with a DATE cast to a timestamp (midnight) and
    casts to its UTC date whatever the session's time zone. Why: on DuckDB the instant's
    microseconds since the epoch are its UTC wall clock (make_timestamp), plain arithmetic:
    timezone('UTC', ...) gives the same values through ICU's per-row time zone conversion,
    5x slower over 30M fetches (bench/README.md, "History days"). Spark's timestamps are
    instants shown in the session time zone, which to_utc_timestamp shifts to UTC. -#}
{% macro utc_timestamp(column) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'movies')(column)) }}
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
    make_timestamp(epoch_us({{ column }}))
{%- endmacro %}

{% macro spark__utc_timestamp(column) -%}
    to_utc_timestamp({{ column }}, current_timezone())
{%- endmacro %}


{#- observed_late(fetched_at, day): true when the fetch at TIMESTAMP WITH TIME ZONE
    `fetched_at` came after DATE `day` ended (UTC) plus var observation_grace_hours
    (MOVIES_OBSERVATION_GRACE_HOURS): TMDB's values of that later moment filed under `day`.
    The same rule as movie_assets/tmdb/observation.py, one expression for both engines. -#}
{% macro observed_late(fetched_at, day) -%}
    {{ utc_timestamp(fetched_at) }} >= cast({{ day }} as timestamp) + interval {{ 24 + (var('observation_grace_hours') | int) }} hours
{%- endmacro %}
