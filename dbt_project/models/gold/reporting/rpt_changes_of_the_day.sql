-- Report shape for the workbook's Changes sheet and the dashboard's "What changed": the
-- tracked attributes that changed on the reported day (gold.rpt_as_of), one row per movie and
-- attribute, with the movie's current title.
with changes as (
    select * from {{ ref('fct_movie_attribute_changes') }}
),

current_versions as (
    select
        movie_id,
        title
    from {{ ref('dim_movie_history') }}
    where is_current
),

as_of as (
    select * from {{ ref('rpt_as_of') }}
)

select
    as_of.partition_date as change_date,
    changes.movie_id,
    current_versions.title,
    changes.attribute,
    changes.old_value,
    changes.new_value,
    changes.change_kind
from changes
inner join as_of on changes.date_id = {{ date_id('as_of.partition_date') }}
left join current_versions on changes.movie_id = current_versions.movie_id
