{{ config(meta={'dagster': {'asset_key': ['gold', 'dim_movie']}}) }}
-- Protects ROI figures in the workbook, the genre ROI chart and the KPIs: gold.dim_movie has
-- an ROI only where a positive budget and a revenue are both known (TMDB's 0 = unknown is
-- NULL in silver, never a divisor). Returns the movies that break the rule.
select
    movie_id,
    budget_usd,
    revenue_usd,
    roi
from {{ ref('dim_movie') }}
where
    roi is not null
    and (budget_usd is null or budget_usd <= 0 or revenue_usd is null)
