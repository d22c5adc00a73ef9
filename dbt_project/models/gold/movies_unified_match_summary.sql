-- Films of gold.movies_unified found in both sources of each pair, by how the later source
-- of the pair (order TMDB, critic, audience, box office) matched. Read by the Dagster
-- asset check gold/movies_unified:match_counts to report the counts as metadata.
{#- Each source in matching order, with how a film's row of it matched (NULL: not present). #}
{%- set sources = [
    ('tmdb', "case when in_tmdb then 'tmdb' end"),
    ('critic', 'critic_match'),
    ('audience', 'audience_match'),
    ('box_office', 'box_office_match'),
] %}
with films as (
    select * from {{ ref('movies_unified') }}
),

present as (
    {%- for source, match_method in sources %}
        select
            film_key,
            '{{ source }}' as source,
            {{ loop.index0 }} as position,
            {{ match_method }} as match_method
        from films
        where {{ match_method }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

source_pairs as (
    select
        earlier.source as source_a,
        later.source as source_b,
        later.match_method
    from present as earlier
    inner join present as later
        on
            earlier.film_key = later.film_key
            and earlier.position < later.position
)

select
    source_a,
    source_b,
    match_method,
    count(*) as films
from source_pairs
group by source_a, source_b, match_method
order by source_a, source_b, match_method
