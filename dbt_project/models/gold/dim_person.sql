-- Person dimension: one row per TMDB person credited in cast or crew of a movie's latest fetch.
with credits as (
    -- Every credit with the department it counts for: a cast credit is 'Acting', as TMDB's
    -- own known_for_department files actors.
    select
        person_id,
        person_name,
        gender,
        'Acting' as department
    from {{ ref('tmdb_movie_cast') }}
    union all
    select
        person_id,
        person_name,
        gender,
        department
    from {{ ref('tmdb_movie_crew') }}
),

department_credits as (
    select
        person_id,
        department,
        count(*) as credit_count
    from credits
    group by person_id, department
),

known_for as (
    -- Counted above, not in the window: Spark's QUALIFY cannot read an aggregate of the group.
    select
        person_id,
        department as known_for_department
    from department_credits
    qualify row_number() over (partition by person_id order by credit_count desc, department asc nulls last) = 1
),

people as (
    select
        person_id,
        {{ mode_first('person_name') }} as name,
        -- 0 is TMDB's "not set": a code any credit knows wins over it.
        coalesce({{ mode_first('gender') }} filter (where gender <> 0), 0) as gender
    from credits
    group by person_id
)

select
    people.person_id,
    people.name,
    people.gender,
    known_for.known_for_department
from people
inner join known_for on people.person_id = known_for.person_id
