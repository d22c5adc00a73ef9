{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='movie_id',
        post_hook=("" if target.type == 'spark' else "{{ delete_vanished_movie_history() }}"),
    )
}}
-- Movie history, slowly changing dimension of type 2: one row per movie per version of its
-- tracked attributes (macro movie_tracked_attributes), from the typed daily fetches of
-- silver.tmdb_movie_attribute_snapshots. A version starts on the first day its values were
-- observed; a day on which the movie was not fetched closes nothing.
--
-- Incremental rule (DuckDB), per movie observed in the window [min_date, max_date) or whose
-- history overlaps it:
-- * its history so far ends before the window (a daily run of the newest day): its versions
--   so far are kept as they are and the window's observations are appended to them;
-- * otherwise (a re-fetched day, a backfill of a day older than the newest one, a new movie):
--   its whole history is derived again from every day in silver.
-- Either way the movie's rows are replaced (delete+insert on movie_id), and a movie left with
-- no fetch at all loses its rows (post-hook). Versions are runs of equal values in day order,
-- so appending later days to the runs so far gives the runs of all days: the result equals a
-- full rebuild whatever order the days come in. Movies neither observed in the window nor
-- overlapping it are not touched. Without the window vars every movie is derived again.
-- On Spark a Parquet table cannot delete rows: the history is a table derived in every run
-- (the same rows).
{% set columns = movie_tracked_columns() %}
{% set windowed = is_incremental() and var('min_date') %}
with observations as (
    select movie_id, snapshot_date, {{ columns | join(', ') }}
    from {{ ref('tmdb_movie_attribute_snapshots') }}
),

{% if windowed %}
previous as (
    select * from {{ this }}
),

previous_spans as (
    select movie_id, min(valid_from) as first_day, max(last_seen_date) as last_day
    from previous
    group by movie_id
),

affected as (
    select movie_id from observations where {{ in_partition_window('snapshot_date') }}
    union
    select movie_id from previous_spans
    where first_day < cast('{{ var("max_date") }}' as date) and last_day >= cast('{{ var("min_date") }}' as date)
),

-- Affected movies whose history so far ends before the window: extended, not derived again.
extended as (
    select affected.movie_id
    from affected
    inner join previous_spans on affected.movie_id = previous_spans.movie_id
    where previous_spans.last_day < cast('{{ var("min_date") }}' as date)
),

segments as (
    select movie_id, valid_from as first_seen_date, last_seen_date, {{ columns | join(', ') }}
    from previous
    where movie_id in (select movie_id from extended)
    union all
    select movie_id, snapshot_date as first_seen_date, snapshot_date as last_seen_date, {{ columns | join(', ') }}
    from observations
    where {{ in_partition_window('snapshot_date') }} and movie_id in (select movie_id from extended)
    union all
    -- Two selects rather than one with an OR, so that the window's days are pruned by date.
    select movie_id, snapshot_date as first_seen_date, snapshot_date as last_seen_date, {{ columns | join(', ') }}
    from observations
    where movie_id in (select movie_id from affected except select movie_id from extended)
),
{% else %}
-- Each observation is a segment of one day.
segments as (
    select movie_id, snapshot_date as first_seen_date, snapshot_date as last_seen_date, {{ columns | join(', ') }}
    from observations
),
{% endif %}

segments_with_previous as (
    select
        segments.*,
        lag(first_seen_date) over by_day as previous_first_seen_date,
        {%- for column in columns %}
        lag({{ column }}) over by_day as previous_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from segments
    window by_day as (partition by movie_id order by first_seen_date)
),

-- A segment starts a version when it is the movie's first or any tracked value differs from
-- the segment before; the running count of starts numbers the versions.
numbered as (
    select
        *,
        cast(sum(
            case when previous_first_seen_date is null
                {%- for attribute in movie_tracked_attributes() %}
                or {{ attribute_differs(attribute, 'previous_') }}
                {%- endfor %}
                then 1 else 0 end
        ) over (partition by movie_id order by first_seen_date rows between unbounded preceding and current row) as integer) as version_number
    from segments_with_previous
),

versions as (
    -- The values are equal within a version, so max() picks them.
    select
        movie_id,
        version_number,
        min(first_seen_date) as valid_from,
        max(last_seen_date) as last_seen_date,
        {%- for column in columns %}
        max({{ column }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from numbered
    group by movie_id, version_number
),

versions_with_previous as (
    select
        versions.*,
        lead(valid_from) over by_version as valid_to,
        {%- for column in columns %}
        lag({{ column }}) over by_version as previous_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from versions
    window by_version as (partition by movie_id order by version_number)
)

select
    movie_id,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    valid_from as first_seen_date,
    last_seen_date,
    version_number,
    {%- for column in columns %}
    {{ column }},
    {%- endfor %}
    {% set differs = [] -%}
    {%- for attribute in movie_tracked_attributes() -%}
        {%- do differs.append("case when version_number > 1 and " ~ attribute_differs(attribute, 'previous_') ~ " then '" ~ attribute['name'] ~ "' end") -%}
    {%- endfor -%}
    {{ non_null_list(differs) }} as changed_attributes
from versions_with_previous
