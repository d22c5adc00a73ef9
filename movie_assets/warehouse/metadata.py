"""Materialization metadata for DuckDB tables, shown in the Dagster UI."""

from typing import Any

import duckdb
from dagster import MetadataValue, TableColumn, TableSchema


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str, preview_rows: int = 5) -> dict[str, Any]:
    """Row count, column schema and a Markdown preview of ``table`` (``schema.name``).

    Returns Dagster metadata: ``dagster/table_name``, ``dagster/row_count`` (int),
    ``dagster/column_schema`` (names and DuckDB types) and ``preview`` (first
    ``preview_rows`` rows as a Markdown table, long values cut to 60 characters).
    """
    columns = conn.execute(f"DESCRIBE {table}").fetchall()
    row_count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    names = [column[0] for column in columns]
    rows = conn.execute(f"SELECT * FROM {table} LIMIT {int(preview_rows)}").fetchall()

    def cell(value: Any) -> str:
        text = "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 60 else text[:57] + "..."

    preview = "\n".join(
        ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)] + ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    )
    return {
        "dagster/table_name": table,
        "dagster/row_count": int(row_count),
        "dagster/column_schema": TableSchema(columns=[TableColumn(name=c[0], type=str(c[1])) for c in columns]),
        "preview": MetadataValue.md(preview),
    }
