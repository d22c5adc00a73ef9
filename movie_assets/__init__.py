"""Movie-analytics pipeline: Dagster assets over DuckDB, dbt silver/gold, Excel and PNG reports."""
