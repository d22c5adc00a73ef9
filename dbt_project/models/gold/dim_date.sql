-- Calendar dimension: one row per day from 1 January of the earliest release year to
-- 31 December of the year after the latest release, snapshot or today, so every release
-- date and every fact date (including the partitions built after this table) has a row.
-- It reads silver's snapshot days and release dates, not the fact, so the daily fact can depend on it.
with snapshot_dates as (
    select min(snapshot_date) as first_day, max(snapshot_date) as last_day
    from {{ ref('tmdb_movie_snapshots') }}
),

release_dates as (
    select min(release_date) as first_day, max(release_date) as last_day
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
    select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as date_day
    from bounds
)

select
    cast(strftime(date_day, '%Y%m%d') as integer) as date_id,
    date_day,
    year(date_day) as year,
    quarter(date_day) as quarter,
    month(date_day) as month,
    monthname(date_day) as month_name,
    day(date_day) as day_of_month,
    isoyear(date_day) as iso_year,
    weekofyear(date_day) as iso_week,
    isodow(date_day) as weekday,
    dayname(date_day) as weekday_name,
    isodow(date_day) >= 6 as is_weekend
from days
