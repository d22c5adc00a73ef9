{#- For gold.kpi_summary: a CTE named `kpi` holding the top var kpi_top_n subjects ordered by
    `order_by`, among those with a `metric` and meeting `where` (optional), reporting `metric`
    as value in `unit`. The subject's id breaks ties, so ranks are unique; a subject without
    the metric is left out, as it has no place in a ranking. Ends with a comma.

    subject: dict naming what is ranked, declared once per kind in kpi_summary:
      relation (CTE), type (subject_type), id and name (columns).

    Returns the CTE with kpi_summary's columns: kpi, rank, subject_type, subject_id,
    subject_name, metric, value (double), unit. Why: every ranked KPI has this one shape,
    whether it ranks movies, directors or collections. -#}
{% macro kpi_ranking(kpi, subject, metric, unit, order_by, where=none) %}
{{ kpi }} as (
    select
        '{{ kpi }}' as kpi,
        row_number() over (order by {{ order_by }}, {{ subject.id }}) as rank,
        '{{ subject.type }}' as subject_type,
        {{ subject.id }} as subject_id,
        {{ subject.name }} as subject_name,
        '{{ metric }}' as metric,
        cast({{ metric }} as double) as value,
        '{{ unit }}' as unit
    from {{ subject.relation }}
    where {{ metric }} is not null
        {%- if where is not none %} and ({{ where }}){% endif %}
    qualify rank <= {{ var('kpi_top_n') }}
),
{%- endmacro %}
