{#- The provider contract's share limit, on a provider model's quality_flags (one
    'column: reason "raw"' entry per value provider_checked set to NULL: unreadable, or outside
    the type and bounds declared once in var provider_columns). Fails with one row per
    column (flagged_column, flagged_rows, total_rows) whose values failed their type or range
    in more than `max_share` (0-1; default var provider_max_flagged_share) of the
    delivery's rows, e.g. a 0-10 score delivered on a
    0-100 scale. Blocking like every dbt test, so such a delivery never reaches readers. -#}
{% test provider_flag_shares(model, column_name, max_share=none) %}
{%- set limit = var('provider_max_flagged_share') if max_share is none else max_share %}
with flags as (
    select split_part(flag.entry, ':', 1) as flagged_column
    from {{ model }}, {{ unnest_list(column_name) }} as flag(entry)
),

delivered as (
    select count(*) as total_rows from {{ model }}
)

select flags.flagged_column, count(*) as flagged_rows, max(delivered.total_rows) as total_rows
from flags
cross join delivered
group by flags.flagged_column
having count(*) > {{ limit }} * max(delivered.total_rows)
{% endtest %}
