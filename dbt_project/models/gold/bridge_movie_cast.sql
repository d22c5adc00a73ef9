-- Bridge movie <-> person for the cast: one row per cast credit.
select
    movie_id,
    person_id,
    character_name as character,
    cast_order,
    credit_id
from {{ ref('tmdb_movie_cast') }}
