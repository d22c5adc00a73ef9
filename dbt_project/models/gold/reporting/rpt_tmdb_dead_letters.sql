-- Report shape for the workbook's Dead letters sheet: the TMDB dead letters of the reported day
-- (gold.rpt_as_of), one row per input that yielded no movie row.
with dead_letters as (
    select * from {{ source('bronze', 'tmdb_dead_letter') }}
),

as_of as (
    select * from {{ ref('rpt_as_of') }}
)

select
    dead_letters.source,
    dead_letters.raw_value,
    dead_letters.movie_id,
    dead_letters.row_number,
    dead_letters.reason,
    dead_letters.http_status,
    dead_letters.attempts,
    dead_letters.last_error,
    dead_letters.partition_date,
    dead_letters.run_id,
    dead_letters.recorded_at
from dead_letters
inner join as_of on dead_letters.partition_date = as_of.partition_date
