-- Calendar dimension: one row per day from 1 January of the earliest release year to
-- 31 December of the year after the latest release, snapshot or today, so every release
-- date and every fact date (including the partitions built after this table) has a row.
-- It reads silver's snapshot days and release dates, not the fact, so the daily fact can depend on it.
with snapshot_dates as (
    select
        min(snapshot_date) as first_day,
        max(snapshot_date) as last_day
    from {{ ref('tmdb_movie_snapshots') }}
),

release_dates as (
    select
        min(release_date) as first_day,
        max(release_date) as last_day
    from {{ ref('tmdb_movies') }}
),

bounds as (
    select
        make_date(year(least(release_dates.first_day, snapshot_dates.first_day, current_date)), 1, 1)
            as first_day,
        make_date(year(greatest(release_dates.last_day, snapshot_dates.last_day, current_date)) + 1, 12, 31)
            as last_day
    from release_dates cross join snapshot_dates
),

days as (
    select {{ day_series('first_day', 'last_day') }}
    from bounds
)

{%- set calendar = calendar_parts('date_day') %}

select
    {{ date_id('date_day') }} as date_id,
    date_day,
    year(date_day) as year,
    quarter(date_day) as quarter,
    month(date_day) as month,
    {{ calendar.month_name }} as month_name,
    day(date_day) as day_of_month,
    {{ calendar.iso_year }} as iso_year,
    weekofyear(date_day) as iso_week,
    {{ calendar.iso_weekday }} as weekday,
    {{ calendar.weekday_name }} as weekday_name,
    {{ calendar.iso_weekday }} >= 6 as is_weekend
from days
