"""The lake: bronze as open Parquet files under ``MOVIES_LAKE_DIR``, readable by any engine.

Layout (Hive-style, one Parquet file per slice)::

    bronze/tmdb_movies/partition_date=YYYY-MM-DD/data.parquet       one file per daily partition
    bronze/tmdb_dead_letter/partition_date=YYYY-MM-DD/data.parquet
    bronze/<provider table>/delivery=<sha256>/data.parquet          every delivery ever loaded
    bronze/<provider table>/current -> delivery=<sha256>            the delivery silver reads

A slice is replaced atomically: the new file is written beside the old one under a temporary
name and renamed over it (``os.replace``), and a provider's ``current`` link is swapped the
same way. A killed run leaves the old file or the new one, never a mix; a re-run of a day
replaces that day's file, so nothing is ever duplicated. Writing takes no DuckDB lock.

Why not a table format (Delta, Iceberg): a daily slice replaced whole needs no transaction
log, and every engine here (DuckDB, Spark) reads plain Hive-partitioned Parquet.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import ConfigurableResource

from movie_assets.atomic_write import atomic_output

DATA_FILE = "data.parquet"
CURRENT = "current"


def atomic_parquet(rows: pa.Table, target: Path) -> Path:
    """Write ``rows`` to ``target`` as zstd Parquet through
    :func:`movie_assets.atomic_write.atomic_output`, so readers see the old file or the new
    one, whole.

    Raises:
        OSError: the folder cannot be written (the old file is untouched).
    """
    with atomic_output(target) as temporary:
        pq.write_table(rows, temporary, compression="zstd")
    return target


def atomic_symlink(link: Path, points_to: str) -> None:
    """Make ``link`` point at ``points_to`` (relative to the link's folder), replacing any
    previous link in one rename, so a reader follows the old target or the new one."""
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex}.tmp")
    os.symlink(points_to, temporary)
    try:
        os.replace(temporary, link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def schema_ddl(schema: pa.Schema) -> str:
    """DuckDB column DDL (``"movie_id" BIGINT NOT NULL, ...``) for a bronze table declared as
    ``schema``: DuckDB's own type for each Arrow type, ``NOT NULL`` for a non-nullable field.
    The one declaration of a bronze table is its Arrow schema; writers build their rows with
    it and this derives the DuckDB shape, so the two cannot drift."""
    with duckdb.connect() as conn:
        types = conn.from_arrow(schema.empty_table()).types
    return ", ".join(
        '"' + field.name.replace('"', '""') + f'" {column_type}' + ("" if field.nullable else " NOT NULL")
        for field, column_type in zip(schema, types, strict=True)
    )


@dataclass(frozen=True)
class Lake:
    """The lake rooted at ``root`` (absolute); see the module docstring for its layout."""

    root: Path

    def table_dir(self, table: str) -> Path:
        """``root/bronze/<table>`` for ``table`` = ``bronze.<table>`` or ``<table>``."""
        return self.root / "bronze" / table.split(".")[-1]

    def partition_file(self, table: str, partition_date: str) -> Path:
        """The file of one daily partition (``partition_date`` is ``YYYY-MM-DD``)."""
        return self.table_dir(table) / f"partition_date={partition_date}" / DATA_FILE

    def write_partition(self, table: str, partition_date: str, rows: pa.Table) -> Path:
        """Replace the daily partition of ``table`` with ``rows`` (no ``partition_date``
        column: it lives in the folder name). An empty ``rows`` leaves an empty file, which
        records that the day was loaded and had nothing."""
        if "partition_date" in rows.column_names:
            rows = rows.drop_columns(["partition_date"])
        return atomic_parquet(rows, self.partition_file(table, partition_date))

    def partitions(self, table: str) -> list[str]:
        """The partition dates (``YYYY-MM-DD``) that have a file, oldest first."""
        folder = self.table_dir(table)
        if not folder.is_dir():
            return []
        return sorted(
            entry.name.split("=", 1)[1] for entry in folder.iterdir() if entry.name.startswith("partition_date=") and (entry / DATA_FILE).is_file()
        )

    def scan(self, table: str) -> str:
        """A DuckDB table expression over every partition of ``table`` with ``partition_date``
        (DATE) from the folder names; raises in DuckDB when no partition exists yet (see
        :meth:`partitions`)."""
        pattern = (self.table_dir(table) / "partition_date=*" / DATA_FILE).as_posix()
        return f"read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"

    def write_delivery(self, table: str, sha256: str, rows: pa.Table) -> Path:
        """Land a provider delivery under ``delivery=<sha256>`` and point ``current`` at it.

        A delivery already landed (same sha256) is not rewritten; ``current`` moves to it.
        """
        folder = self.table_dir(table)
        data = folder / f"delivery={sha256}" / DATA_FILE
        if not data.is_file():
            atomic_parquet(rows, data)
        atomic_symlink(folder / CURRENT, data.parent.name)
        return data

    def current_delivery(self, table: str) -> str | None:
        """The sha256 of the delivery ``current`` points at, or None before the first load."""
        link = self.table_dir(table) / CURRENT
        if not link.is_symlink():
            return None
        return os.readlink(link).split("=", 1)[1]

    def current_file(self, table: str) -> Path:
        """``bronze/<table>/current/data.parquet``: the file silver reads."""
        return self.table_dir(table) / CURRENT / DATA_FILE

    def tables(self) -> list[str]:
        """Bronze tables with data: daily tables with a partition, provider tables with a current delivery."""
        folder = self.root / "bronze"
        if not folder.is_dir():
            return []
        return sorted(entry.name for entry in folder.iterdir() if self.partitions(entry.name) or self.current_delivery(entry.name))

    def source(self, table: str) -> str:
        """The DuckDB table expression that reads ``table`` as silver does: a daily table across
        its partitions (:meth:`scan`), a provider table as its current delivery."""
        if self.partitions(table):
            return self.scan(table)
        return f"read_parquet('{self.current_file(table).as_posix()}')"

    def connect_bronze(self, empty: dict[str, pa.Schema] | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with a view ``bronze.<table>`` over :meth:`source` for
        every table of :meth:`tables`, and for each table of ``empty`` (``{"bronze.table":
        Arrow schema}``) that has no data yet an empty table of that shape (:func:`schema_ddl`),
        so queries of a first run need no special case; the caller closes it.

        Only this process's memory is used: no warehouse file is opened or locked.
        """
        conn = duckdb.connect()
        conn.execute("CREATE SCHEMA bronze")
        present = self.tables()
        for table in present:
            conn.execute(f"CREATE VIEW bronze.{table} AS SELECT * FROM {self.source(table)}")
        for table, schema in (empty or {}).items():
            if table.split(".")[-1] not in present:
                conn.execute(f"CREATE TABLE bronze.{table.split('.')[-1]} ({schema_ddl(schema)})")
        return conn


class LakeResource(ConfigurableResource):
    """The ``lake`` resource: the folder ``MOVIES_LAKE_DIR`` where bronze lands as Parquet.

    Attributes:
        root: absolute path of the lake folder.
    """

    root: str

    @property
    def lake(self) -> Lake:
        """The :class:`Lake` at :attr:`root`."""
        return Lake(Path(self.root))
