"""Loading bronze tables into DuckDB: the only place Python writes SQL.

Every load runs in one transaction (delete the slice it replaces, insert the new rows),
so a re-run never duplicates and a failed run leaves the previous data in place.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa


def ensure_table(conn: duckdb.DuckDBPyConnection, table: str, ddl_columns: str) -> None:
    """Create schema and table ``table`` (``schema.name``) with ``ddl_columns`` if missing."""
    schema = table.split(".")[0]
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl_columns})")


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    rows: pa.Table,
    where: str | None = None,
    params: list[Any] | None = None,
) -> int:
    """Atomically replace rows of ``table`` with ``rows``.

    Deletes the rows matching ``where`` (all rows when None) and inserts ``rows`` by
    column name, in one transaction; on any error the transaction is rolled back.

    Args:
        table: ``schema.name``; must exist (see :func:`ensure_table`).
        rows: an Arrow table whose column names are a subset of the table's columns.
        where: SQL predicate selecting the slice being replaced, with ``?`` placeholders.
        params: values for the placeholders.

    Returns:
        the number of rows inserted.
    """
    columns = ", ".join(f'"{name}"' for name in rows.column_names)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DELETE FROM {table}" + (f" WHERE {where}" if where else ""), params or [])
        conn.register("_incoming_rows", rows)
        conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming_rows")
        conn.unregister("_incoming_rows")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return rows.num_rows
