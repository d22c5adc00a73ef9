-- Films of gold.movies_unified found in both sources of each pair, by how the later source
-- of the pair (order TMDB, critic, audience, box office) matched. Read by the Dagster
-- asset check gold/movies_unified:match_counts to report the counts as metadata.
with presence as (
    select
        film_key,
        unnest([
            {'source': 'tmdb', 'position': 0, 'match_method': case when in_tmdb then 'tmdb' end},
            {'source': 'critic', 'position': 1, 'match_method': critic_match},
            {'source': 'audience', 'position': 2, 'match_method': audience_match},
            {'source': 'box_office', 'position': 3, 'match_method': box_office_match}
        ]) as source_entry
    from {{ ref('movies_unified') }}
),

present as (
    select film_key, source_entry.source, source_entry.position, source_entry.match_method
    from presence
    where source_entry.match_method is not null
),

source_pairs as (
    select
        earlier.source as source_a,
        later.source as source_b,
        later.match_method
    from present as earlier
    inner join present as later
        on earlier.film_key = later.film_key
        and earlier.position < later.position
)

select source_a, source_b, match_method, count(*) as films
from source_pairs
group by source_a, source_b, match_method
order by source_a, source_b, match_method
