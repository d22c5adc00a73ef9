"""Copying a Spark warehouse table into the DuckDB build file (the Spark engine's hand-over to
checks, reports and publish). The folders here are laid out as Spark writes managed Parquet
tables (``<schema>.db/<table>/[<column>=<value>/]part-*.parquet``); the Spark-built ones are
covered end to end in tests/integration/test_spark_engine.py."""

from pathlib import Path

import duckdb
import pytest

from movie_assets.transform.spark_tables import SparkTableMissing, copy_spark_table, spark_table_folder


def write_table(warehouse: Path, relation: str, select: str, partition_by: str | None = None) -> None:
    folder = spark_table_folder(warehouse, relation)
    folder.mkdir(parents=True)
    with duckdb.connect() as conn:
        if partition_by:
            conn.execute(f"COPY ({select}) TO '{folder}' (FORMAT parquet, PARTITION_BY ({partition_by}), OVERWRITE_OR_IGNORE)")
        else:
            conn.execute(f"COPY ({select}) TO '{folder}/part-00000.snappy.parquet' (FORMAT parquet)")
    (folder / "_SUCCESS").write_bytes(b"")


def test_a_partitioned_table_keeps_its_rows_with_the_partition_column_first(tmp_path: Path):
    warehouse = tmp_path / "sw"
    write_table(
        warehouse,
        "gold.fact_movie_daily",
        "SELECT 20261100 + range % 3 AS date_id, range AS movie_id, range * 1.5 AS popularity FROM range(10)",
        partition_by="date_id",
    )
    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        copy_spark_table(conn, warehouse, "gold.fact_movie_daily")
        assert [row[0] for row in conn.execute("DESCRIBE gold.fact_movie_daily").fetchall()] == ["date_id", "movie_id", "popularity"]
        assert conn.execute("SELECT sum(date_id), sum(movie_id), sum(popularity) FROM gold.fact_movie_daily").fetchone() == (202611000 + 9, 45, 67.5)


def test_a_second_copy_replaces_the_first_and_an_empty_partitioned_table_keeps_its_columns(tmp_path: Path):
    warehouse = tmp_path / "sw"
    write_table(warehouse, "silver.t", "SELECT DATE '2026-11-20' + range::INT AS d, range AS v FROM range(4)", partition_by="d")
    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        copy_spark_table(conn, warehouse, "silver.t")
        assert conn.execute("SELECT count(*) FROM silver.t").fetchone()[0] == 4
        for child in spark_table_folder(warehouse, "silver.t").iterdir():
            if child.is_dir():
                for file in child.iterdir():
                    file.unlink()
                child.rmdir()
        copy_spark_table(conn, warehouse, "silver.t")
        assert conn.execute("SELECT count(*) FROM silver.t").fetchone()[0] == 0
        assert [row[0] for row in conn.execute("DESCRIBE silver.t").fetchall()] == ["d", "v"]


def test_a_table_spark_never_wrote_is_named_in_the_error(tmp_path: Path):
    with duckdb.connect() as conn, pytest.raises(SparkTableMissing, match=r"gold\.missing: no folder .*gold\.db/missing"):
        copy_spark_table(conn, tmp_path, "gold.missing")
    write_table(tmp_path, "gold.empty_partitioned", "SELECT 1 AS day, 2 AS v WHERE false", partition_by="day")
    with duckdb.connect() as conn, pytest.raises(SparkTableMissing, match="never copied before"):
        copy_spark_table(conn, tmp_path, "gold.empty_partitioned")
