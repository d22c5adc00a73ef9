{#- Match the rows of one source to the films known so far (gold.movies_unified).

    spine: relation with film_key, imdb_id, title_key, release_year, title_rank (0 for a
      film's main title, 1 for its original title); one row per (film, title key).
    candidates: relation with row_id, imdb_id, title_key, release_year.

    Returns one row per candidate: row_id, film_key (NULL when no film matched) and
    match_method: 'imdb_id', 'title_year' (same year), 'title_year_within_1' or 'unmatched'.
    imdb_id is tried first; the rest then match on title key + year within one, never
    across two different imdb ids. A pair is kept only when each is the other's best
    candidate (nearest year, main title before original title, lowest key), so a film gets
    at most one row of a source and a row at most one film; the loser stays unmatched. -#}
{% macro movies_unified_match(spine, candidates) %}
imdb_pairs as (
    select candidates.row_id, spine_ids.film_key
    from {{ candidates }} as candidates
    inner join (select distinct film_key, imdb_id from {{ spine }} where imdb_id is not null) as spine_ids
        on candidates.imdb_id = spine_ids.imdb_id
),

imdb_matches as (
    select row_id, film_key, 'imdb_id' as match_method
    from imdb_pairs
    qualify row_number() over (partition by row_id order by film_key) = 1
        and row_number() over (partition by film_key order by row_id) = 1
),

title_pairs as (
    select
        candidates.row_id,
        spine.film_key,
        min(abs(candidates.release_year - spine.release_year)) as year_gap,
        min(spine.title_rank) as title_rank
    from {{ candidates }} as candidates
    inner join {{ spine }} as spine
        on candidates.title_key = spine.title_key
        and abs(candidates.release_year - spine.release_year) <= 1
    where candidates.row_id not in (select row_id from imdb_matches)
        and spine.film_key not in (select film_key from imdb_matches)
        and (candidates.imdb_id is null or spine.imdb_id is null or candidates.imdb_id = spine.imdb_id)
    group by candidates.row_id, spine.film_key
),

title_matches as (
    select
        row_id,
        film_key,
        case when year_gap = 0 then 'title_year' else 'title_year_within_1' end as match_method
    from title_pairs
    qualify row_number() over (partition by row_id order by year_gap, title_rank, film_key) = 1
        and row_number() over (partition by film_key order by year_gap, title_rank, row_id) = 1
),

matches as (
    select * from imdb_matches
    union all
    select * from title_matches
)

select
    candidates.row_id,
    matches.film_key,
    coalesce(matches.match_method, 'unmatched') as match_method
from {{ candidates }} as candidates
left join matches on candidates.row_id = matches.row_id
{% endmacro %}


{#- The rows of one provider that matched no film so far: each becomes a film of its own in
    gold.movies_unified, keyed '<prefix>:<row id>', that later providers can match onto.
    Returns the spine columns (film_key, imdb_id, title_key, release_year, title_rank). -#}
{% macro movies_unified_unmatched_films(source_model, row_id_column, matches_model, prefix) %}
    select
        '{{ prefix }}:' || source_rows.{{ row_id_column }} as film_key,
        source_rows.imdb_id,
        source_rows.title_key,
        source_rows.release_year,
        0 as title_rank
    from {{ ref(source_model) }} as source_rows
    inner join {{ ref(matches_model) }} as matched
        on source_rows.{{ row_id_column }} = matched.row_id
    where matched.match_method = 'unmatched'
{% endmacro %}
