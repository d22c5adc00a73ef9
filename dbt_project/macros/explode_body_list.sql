{#- The entries of one list field of each movie's latest TMDB body, one row each.

    bodies: relation with movie_id and body (silver.tmdb_latest_bodies' shape).
    list_field: path of a list of structs in body, e.g. 'genres' or 'credits.crew'.
    columns: SQL select expressions over the entry's fields (its struct fields become
      columns) and list_position (1-based index in the list).
    dedupe_key: SQL expression naming an entry within its movie.
    where: SQL condition an entry must meet, applied before the dedupe so that a dropped
      entry never takes the place of a kept one.
    order_by: SQL ordering of a movie's entries sharing a key; the first is kept.

    Returns a select of movie_id then `columns`, one row per (movie_id, dedupe_key). Why:
    every exploded silver model reads a list the same way, and the API can repeat an entry
    in one list, so each keeps the first (highest-billed) occurrence by default. -#}
{% macro explode_body_list(bodies, list_field, columns, dedupe_key, where, order_by='list_position') %}
select
    movie_id,
    {{ columns | join(',\n    ') }}
from (
    {{ adapter.dispatch('body_list_entries', 'movies')(bodies, list_field) }}
) as entries
where {{ where }}
qualify row_number() over (partition by movie_id, {{ dedupe_key }} order by {{ order_by }}) = 1
{% endmacro %}

{#- body_list_entries(bodies, list_field): movie_id, the entry's struct fields as columns and
    list_position (1-based) of every entry of the list, one row each.
    DuckDB: a recursive unnest makes the entry's struct fields columns. -#}
{% macro default__body_list_entries(bodies, list_field) %}
    select
        movie_id,
        unnest(body.{{ list_field }}, recursive := true),
        generate_subscripts(body.{{ list_field }}, 1) as list_position
    from {{ bodies }}
{% endmacro %}

{#- Spark: posexplode gives each entry with its 0-based position; entry.* makes its struct
    fields columns. The path is back-quoted: `cast` of credits.cast is a keyword. -#}
{% macro spark__body_list_entries(bodies, list_field) %}
    select
        movie_id,
        list_entries.entry.*,
        list_entries.position + 1 as list_position
    from {{ bodies }}
    lateral view posexplode(body.`{{ list_field.split('.') | join('`.`') }}`) list_entries as position, entry
{% endmacro %}
