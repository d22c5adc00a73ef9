"""``MOVIES_ENGINE=spark``: the whole graph with dbt on a real Spark standalone cluster (a
master and a worker process on 127.0.0.1, started for this module) gives the same gold as
the DuckDB engine's session sample run, dbt's unit tests pass on it, and the daily fact keeps
one row per movie per day.

Both runs fetch the same sample through the real local TMDB server; they differ in when they
fetched (``fetched_at``) and their run ids, so those columns are left out of the comparison.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance

from conftest import DAY, REFETCH_RUN_CONFIG, SampleRun, make_settings
from graph import later_snapshot, run_dbt_unit_tests, run_selection
from movie_assets.definitions import build_definitions
from movie_assets.settings import Settings
from movie_assets.tmdb.observation import utc_now
from movie_assets.transform.project import build_dbt_project, prepare_manifest
from movie_assets.transform.spark_cluster import StandaloneCluster
from support.dbt_cli import dbt
from support.ports import free_port

DAY_2 = (date.fromisoformat(DAY) + timedelta(days=1)).isoformat()
RELATIVE_TOLERANCE = 1e-9
#: What a day changes in the fact: the day's fetch, its typed snapshots (incremental by day) and the fact.
DAY_CHAIN = AssetSelection.assets(
    AssetKey(["bronze", "tmdb_movies"]), AssetKey(["silver", "tmdb_movie_snapshots"]), AssetKey(["gold", "fact_movie_daily"])
).required_multi_asset_neighbors()
#: A day's history: the day's fetch, its typed attributes (incremental by day) and the history tables.
HISTORY_CHAIN = AssetSelection.assets(
    AssetKey(["bronze", "tmdb_movies"]),
    AssetKey(["silver", "tmdb_movie_attribute_snapshots"]),
    AssetKey(["gold", "dim_movie_history"]),
    AssetKey(["gold", "fct_movie_attribute_changes"]),
).required_multi_asset_neighbors()
HISTORY_TABLES = ("gold.dim_movie_history", "gold.fct_movie_attribute_changes")
# Values of a run rather than of the data: each run has its own id and fetch times.
RUN_COLUMNS = {"run_id", "fetched_by_run_id", "recorded_at", "published_at"}
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
INEXACT_TYPES = (*FLOAT_TYPES, "TIMESTAMP")


@pytest.fixture(scope="module")
def spark_master(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``spark://127.0.0.1:<port>`` of a standalone master with one 2-core worker, stopped after the module."""
    cluster = StandaloneCluster(
        state_dir=tmp_path_factory.mktemp("spark_cluster"),
        master_port=free_port(),
        master_webui_port=free_port(),
        worker_webui_port=free_port(),
        worker_cores=2,
        worker_memory="2g",
    )
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def run_day(settings: Settings, day: str):
    """The ``daily_refresh`` job (the whole graph) for ``day`` over ``settings``."""
    job = build_definitions(settings).resolve_job_def("daily_refresh")
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(partition_key=day, instance=instance, raise_on_error=False, run_config=REFETCH_RUN_CONFIG)


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory: pytest.TempPathFactory, spark_master: str, sample_run: SampleRun) -> dict:
    """The whole graph for :data:`DAY` with the Spark engine on the cluster, into a fresh root.
    With the maximum grace hours, so that yesterday's partition fetched today is on time
    (``test_history_of_two_days_on_spark_equals_duckdbs``); :data:`DAY` is late either way."""
    root = tmp_path_factory.mktemp("spark_run")
    settings = make_settings(
        root,
        engine="spark",
        spark_master=spark_master,
        spark_warehouse=root / "spark-warehouse",
        spark_driver_memory="1g",
        observation_grace_hours=24,
    )
    prepare_manifest(build_dbt_project(settings), settings)
    result = run_day(settings, DAY)
    assert result.success, "the Spark run failed; see the step failures above"
    return {"settings": settings, "result": result}


def check_outcomes(result) -> dict[tuple[str, str], bool]:
    return {("/".join(evaluation.asset_key.path), evaluation.check_name): evaluation.passed for evaluation in result.get_asset_check_evaluations()}


def compare_snapshots(duckdb_snapshot: Path, spark_snapshot: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{duckdb_snapshot}' AS d (READ_ONLY)")
    conn.execute(f"ATTACH '{spark_snapshot}' AS s (READ_ONLY)")
    return conn


def gold_columns(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = 'gold' ORDER BY table_name, ordinal_position",
        [catalog],
    ).fetchall():
        tables.setdefault(table, {})[column] = data_type
    return tables


def exact_columns(columns: dict[str, str]) -> list[str]:
    """The quoted names of the columns of one table that both engines must give exactly: all but
    the run's own values, fetch times and floating-point or decimal values."""
    return [
        f'"{name}"'
        for name, data_type in columns.items()
        if name not in RUN_COLUMNS and not data_type.startswith(INEXACT_TYPES) and name != "fetched_at"
    ]


def test_dbt_tests_have_the_same_outcome_on_both_engines(spark_run: dict, sample_run: SampleRun):
    on_spark, on_duckdb = check_outcomes(spark_run["result"]), check_outcomes(sample_run.result)
    dbt_checks = {key for key in on_duckdb if key[0].split("/")[0] in ("silver", "gold")}
    assert len(dbt_checks) > 200
    assert {key: on_spark.get(key) for key in dbt_checks} == {key: on_duckdb[key] for key in dbt_checks}
    assert all(on_duckdb[key] for key in dbt_checks)


def test_gold_has_the_same_tables_rows_and_keys(spark_run: dict, sample_run: SampleRun):
    with compare_snapshots(sample_run.settings.duckdb_path, spark_run["settings"].duckdb_path) as conn:
        on_duckdb, on_spark = gold_columns(conn, "d"), gold_columns(conn, "s")
        assert sorted(on_spark) == sorted(on_duckdb)
        for table, columns in on_duckdb.items():
            assert sorted(on_spark[table]) == sorted(columns), table
            listed = ", ".join(exact_columns(columns))
            counts = conn.execute(f"SELECT (SELECT count(*) FROM d.gold.{table}), (SELECT count(*) FROM s.gold.{table})").fetchone()
            assert counts[0] == counts[1], f"gold.{table}: {counts[0]} rows with DuckDB, {counts[1]} with Spark"
            differ = conn.execute(
                f"SELECT count(*) FROM ((SELECT {listed} FROM d.gold.{table} EXCEPT ALL SELECT {listed} FROM s.gold.{table}) "
                f"UNION ALL (SELECT {listed} FROM s.gold.{table} EXCEPT ALL SELECT {listed} FROM d.gold.{table}))"
            ).fetchone()[0]
            assert differ == 0, f"gold.{table}: {differ} rows differ in ({listed})"


def test_inexact_columns_agree_within_tolerance(spark_run: dict, sample_run: SampleRun):
    """Every DOUBLE and DECIMAL column of every gold table, row by row: the rows are paired by
    their exact columns (equal on both engines, see the test above), which are unique in each
    table, and each value must agree within RELATIVE_TOLERANCE."""
    compared = []
    with compare_snapshots(sample_run.settings.duckdb_path, spark_run["settings"].duckdb_path) as conn:
        for table, columns in gold_columns(conn, "d").items():
            inexact = [name for name, data_type in columns.items() if name not in RUN_COLUMNS and data_type.startswith(FLOAT_TYPES)]
            if not inexact:
                continue
            exact = exact_columns(columns)
            on = " AND ".join(f"a.{name} IS NOT DISTINCT FROM b.{name}" for name in exact)
            rows, distinct, paired = conn.execute(
                f"SELECT (SELECT count(*) FROM d.gold.{table}), "
                f"(SELECT count(*) FROM (SELECT DISTINCT {', '.join(exact)} FROM d.gold.{table})), "
                f"(SELECT count(*) FROM d.gold.{table} AS a JOIN s.gold.{table} AS b ON {on})"
            ).fetchone()
            assert rows == distinct == paired, f"gold.{table}: {rows} rows, {distinct} distinct keys, {paired} paired"
            for name in inexact:
                mismatches = conn.execute(
                    f"SELECT count(*) FROM d.gold.{table} AS a JOIN s.gold.{table} AS b ON {on} "
                    f'WHERE (a."{name}" IS NULL) <> (b."{name}" IS NULL) '
                    f'OR abs(a."{name}"::DOUBLE - b."{name}"::DOUBLE) > ? * greatest(abs(a."{name}"::DOUBLE), abs(b."{name}"::DOUBLE))',
                    [RELATIVE_TOLERANCE],
                ).fetchone()[0]
                assert mismatches == 0, f"gold.{table}.{name}: {mismatches} values differ beyond {RELATIVE_TOLERANCE} relative"
                compared.append(f"{table}.{name}")
    assert len(compared) >= 30, compared


def test_dbt_unit_tests_pass_on_spark(spark_run: dict, tmp_path: Path):
    settings = spark_run["settings"]
    results = run_dbt_unit_tests(settings, tmp_path)
    manifest = build_dbt_project(settings).manifest_path
    assert {result["unique_id"] for result in results} == set(json.loads(manifest.read_text())["unit_tests"])
    assert [(result["unique_id"], result["message"]) for result in results if result["status"] != "pass"] == []


def fact_days(settings: Settings) -> dict[int, tuple[int, int, object]]:
    """Rows, movies and the newest fetch per day of the fact as copied from Spark into the build
    file; the snapshots of each day hold the same rows."""
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        rows = conn.execute("SELECT date_id, count(*), count(DISTINCT movie_id), max(fetched_at) FROM gold.fact_movie_daily GROUP BY 1").fetchall()
        snapshots = conn.execute(
            "SELECT strftime(snapshot_date, '%Y%m%d')::INTEGER, count(*), count(DISTINCT movie_id), max(fetched_at) "
            "FROM silver.tmdb_movie_snapshots GROUP BY 1"
        ).fetchall()
    days = {date_id: (count, movies, fetched) for date_id, count, movies, fetched in rows}
    assert days == {date_id: (count, movies, fetched) for date_id, count, movies, fetched in snapshots}
    return days


def test_two_days_on_spark_keep_one_fact_row_per_movie_per_day_and_a_rerun_replaces_its_day(spark_run: dict):
    settings = spark_run["settings"]
    day_1, day_2 = int(DAY.replace("-", "")), int(DAY_2.replace("-", ""))
    first = fact_days(settings)
    assert list(first) == [day_1]
    assert run_selection(settings, DAY_CHAIN, partition_key=DAY_2, resources={"tmdb": later_snapshot(settings)}).success
    second = fact_days(settings)
    assert sorted(second) == [day_1, day_2]
    assert second[day_1] == first[day_1]
    assert all(count == movies > 0 for count, movies, _ in second.values())
    assert run_selection(settings, DAY_CHAIN, partition_key=DAY_2, resources={"tmdb": later_snapshot(settings)}).success
    rerun = fact_days(settings)
    assert rerun[day_1] == first[day_1]
    assert rerun[day_2][:2] == second[day_2][:2]
    assert rerun[day_2][2] > second[day_2][2], "the re-run's fetch replaced the day's rows"


def test_history_of_two_days_on_spark_equals_duckdbs(spark_run: dict, tmp_path: Path):
    """Two history days on Spark: :data:`DAY_2` refetched today serving the later file, then
    yesterday's partition, fetched on time, serving the first. The late fetches of :data:`DAY`
    and :data:`DAY_2` both count today, where the newer partition's (the later file) is the
    day's observation, so the revisions run from yesterday's first file to today's later one.
    The history tables hold the rows dbt-duckdb builds from the same lake (a full rebuild of
    those models on a copy of the build file)."""
    settings = spark_run["settings"]
    yesterday = (utc_now().date() - timedelta(days=1)).isoformat()
    assert run_selection(settings, HISTORY_CHAIN, partition_key=DAY_2, resources={"tmdb": later_snapshot(settings)}).success
    assert run_selection(settings, HISTORY_CHAIN, partition_key=yesterday).success
    on_duckdb = make_settings(tmp_path, lake_dir=settings.lake_dir, observation_grace_hours=settings.observation_grace_hours)
    on_duckdb.build_duckdb_path.parent.mkdir(parents=True)
    shutil.copyfile(settings.build_duckdb_path, on_duckdb.build_duckdb_path)
    dbt(
        on_duckdb,
        tmp_path / "dbt",
        "run",
        "--full-refresh",
        "--select",
        "tmdb_movie_attribute_snapshots",
        "dim_movie_history",
        "fct_movie_attribute_changes",
    )
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        conn.execute(f"ATTACH '{on_duckdb.build_duckdb_path}' AS d (READ_ONLY)")
        changes = conn.execute("SELECT count(*) FROM gold.fct_movie_attribute_changes").fetchone()[0]
        assert changes > 0
        for table in HISTORY_TABLES:
            differ = conn.execute(
                f"SELECT count(*) FROM ((SELECT * FROM {table} EXCEPT ALL SELECT * FROM d.{table}) "
                f"UNION ALL (SELECT * FROM d.{table} EXCEPT ALL SELECT * FROM {table}))"
            ).fetchone()[0]
            assert differ == 0, f"{table}: {differ} rows differ between Spark and DuckDB"
