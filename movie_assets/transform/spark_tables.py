"""The Spark engine's tables, copied into the runs' DuckDB build file.

With ``MOVIES_ENGINE=spark`` dbt builds silver and gold on Spark: every model is a Parquet
table under ``MOVIES_SPARK_WAREHOUSE`` (``<warehouse>/<schema>.db/<table>/``, Hive
partition folders such as ``date_id=20261130/`` for partitioned ones). Everything after
dbt (asset metadata, the Python asset checks, the reports and the write-audit-publish step)
reads the DuckDB build file. So after each model is built on Spark its table is copied into
the build file under the same ``schema.table`` name, and the rest of the graph, the
published snapshots and their readers are the same for both engines.

DuckDB's own Parquet reader does the copy (no Spark session in the Dagster process, no
JVM start-up): the folder layout of a Spark managed table is stable and documented.
"""

from __future__ import annotations

from pathlib import Path

import duckdb


class SparkTableMissing(FileNotFoundError):
    """The folder of a table Spark reported as built does not exist under the warehouse."""


def spark_table_folder(warehouse: Path, relation: str) -> Path:
    """The folder of Spark managed table ``relation`` (``schema.table``) in ``warehouse``:
    ``<warehouse>/<schema>.db/<table>``."""
    schema, table = relation.split(".")
    return warehouse / f"{schema}.db" / table


def _partition_columns(folder: Path) -> list[str]:
    """Hive partition column names of a Spark table folder, outermost first (``date_id=...``)."""
    columns = []
    level = folder
    while True:
        children = [child for child in level.iterdir() if child.is_dir() and "=" in child.name]
        if not children:
            return columns
        columns.append(children[0].name.split("=", 1)[0])
        level = children[0]


def copy_spark_table(conn: duckdb.DuckDBPyConnection, warehouse: Path, relation: str) -> None:
    """Replace DuckDB table ``relation`` (``schema.table``) of ``conn`` with Spark's table of
    the same name in ``warehouse``, in one transaction.

    Partition columns (which Spark keeps in folder names, not in the files) come first, as in
    the models' own column order; their types are DuckDB's inference from the folder names
    (``date_id=20261130`` gives BIGINT where Spark has INT). A partitioned table with no rows
    has no files, so its copy keeps the columns of the previous copy and loses its rows.

    Raises:
        SparkTableMissing: ``warehouse`` has no folder for ``relation`` (a model that is not a
            Spark table, or another warehouse), or a first copy of a partitioned table finds no rows.
        duckdb.Error: the files cannot be read.
    """
    folder = spark_table_folder(warehouse, relation)
    if not folder.is_dir():
        raise SparkTableMissing(
            f"Spark table {relation}: no folder {folder} (MOVIES_SPARK_WAREHOUSE={warehouse}); was it built by "
            "dbt with MOVIES_ENGINE=spark and file_format parquet?"
        )
    schema, table = relation.split(".")
    target = f'"{schema}"."{table}"'
    conn.execute("BEGIN")
    try:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        if any(folder.rglob("*.parquet")):
            files = (folder / "**" / "*.parquet").as_posix().replace("'", "''")
            partitions = _partition_columns(folder)
            ordered = ", ".join([*(f'"{column}"' for column in partitions), f"* EXCLUDE ({', '.join(partitions)})" if partitions else "*"])
            conn.execute(
                f"CREATE OR REPLACE TABLE {target} AS SELECT {ordered} "
                f"FROM read_parquet('{files}', hive_partitioning = {bool(partitions)}, union_by_name = true)"
            )
        elif conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]).fetchone()[0]:
            conn.execute(f"DELETE FROM {target}")
        else:
            raise SparkTableMissing(
                f"Spark table {relation} has no rows and no Parquet file under {folder}, and was never copied before: its columns are unknown"
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
