{#- movie_tracked_attributes(): the attributes gold.dim_movie_history versions, as a list of
    dicts: name (the attribute's name in changed_attributes and in
    gold.fct_movie_attribute_changes), columns (the columns of
    silver.tmdb_movie_attribute_snapshots compared to tell a change) and text (its value as
    text, a SQL expression in which `{p}` stands for the columns' prefix: '' for the version's
    own values, 'previous_' for the version before). One list, so the history and the change rows cannot
    disagree on what a change is. -#}
{% macro movie_tracked_attributes() -%}
    {{ return([
        {'name': 'title', 'columns': ['title'], 'text': '{p}title'},
        {'name': 'original_title', 'columns': ['original_title'], 'text': '{p}original_title'},
        {'name': 'status', 'columns': ['status'], 'text': '{p}status'},
        {'name': 'release_date', 'columns': ['release_date'], 'text': 'cast({p}release_date as string)'},
        {'name': 'runtime_minutes', 'columns': ['runtime_minutes'], 'text': 'cast({p}runtime_minutes as string)'},
        {'name': 'budget_usd', 'columns': ['budget_usd'], 'text': 'cast({p}budget_usd as string)'},
        {'name': 'revenue_usd', 'columns': ['revenue_usd'], 'text': 'cast({p}revenue_usd as string)'},
        {'name': 'genres', 'columns': ['genres'], 'text': '{p}genres'},
        {'name': 'collection', 'columns': ['collection_id', 'collection_name'], 'text': '{p}collection_name'},
        {'name': 'imdb_id', 'columns': ['imdb_id'], 'text': '{p}imdb_id'},
    ]) }}
{%- endmacro %}


{#- movie_tracked_columns(): every column of movie_tracked_attributes(), in their order. -#}
{% macro movie_tracked_columns() -%}
    {%- set columns = [] -%}
    {%- for attribute in movie_tracked_attributes() -%}
        {%- do columns.extend(attribute['columns']) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}


{#- attribute_differs(attribute, previous): SQL condition, true when `attribute` (a dict of
    movie_tracked_attributes()) differs between the current row's columns and the same
    columns prefixed by `previous` (e.g. 'previous_'), NULLs compared as values. -#}
{% macro attribute_differs(attribute, previous) -%}
    ({% for column in attribute['columns'] %}{{ previous }}{{ column }} is distinct from {{ column }}{{ ' or ' if not loop.last }}{% endfor %})
{%- endmacro %}


{#- delete_vanished_movie_history(): post-hook of gold.dim_movie_history on DuckDB: deletes
    the history of movies that no longer have any fetch in silver.tmdb_movie_attribute_snapshots
    (every day they were fetched was re-fetched without them), which delete+insert cannot
    remove since such a movie gives no new row. With the partition window only movies whose history
    reaches the window (last_seen_date on or after its first day) are looked at. -#}
{% macro delete_vanished_movie_history() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where movie_id in (
        select movie_id from {{ this }}
        {%- if window_min_date() %}
        group by movie_id
        having max(last_seen_date) >= cast('{{ window_min_date() }}' as date)
        {%- endif %}
        except
        select movie_id from {{ ref('tmdb_movie_attribute_snapshots') }}
    )
    {%- endif -%}
{%- endmacro %}
