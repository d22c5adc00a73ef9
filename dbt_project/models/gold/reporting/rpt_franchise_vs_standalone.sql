-- Report shape for the franchise-vs-standalone chart: the franchise_vs_standalone KPI of
-- gold.kpi_summary pivoted to one row per segment, so the chart shows the KPI sheet's figures
-- and the segment rules (minimum budget, minimum votes) stay in kpi_summary.
with kpis as (
    select * from {{ ref('kpi_summary') }}
),

segment_metrics as (
    select
        rank,
        subject_name,
        metric,
        value
    from kpis
    where kpi = 'franchise_vs_standalone'
)

select
    subject_name as segment,
    upper(left(subject_name, 1)) || lower(substr(subject_name, 2)) as segment_label,
    min(rank) as segment_rank,
    cast(max(value) filter (where metric = 'movie_count') as bigint) as film_count,
    max(value) filter (where metric = 'mean_revenue_usd') as mean_revenue_usd,
    max(value) filter (where metric = 'mean_roi') as mean_roi,
    max(value) filter (where metric = 'mean_vote_average') as mean_vote_average
from segment_metrics
group by subject_name
