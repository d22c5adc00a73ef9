-- Bridge movie <-> person for the crew: one row per (movie_id, person_id, department, job).
select
    movie_id,
    person_id,
    department,
    job,
    credit_id
from {{ ref('tmdb_movie_crew') }}
