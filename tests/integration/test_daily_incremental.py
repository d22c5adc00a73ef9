"""The day-by-day tables (silver.tmdb_movie_snapshots, gold.fact_movie_daily) after a sequence of
daily runs equal a full rebuild from the same bronze.

On a copy of the session's sample run (day 1), real Dagster runs of the TMDB chain build day 2
from the later sample file, then re-fetch day 1 from that file (changed bodies, and movies the
later file lacks are gone from that day); then day 2 is re-fetched with no movie at all and
only those two tables are rebuilt for its window with dbt; last, day 2 comes back, day 1 is
emptied and the two are built incrementally without a window. After each step both tables are
compared row for row (with duplicates) against a ``dbt run --full-refresh`` of a copy of the
build file without a window. Day 1's typed snapshots carry a sentinel before day 2's run,
so that run is seen to leave the other days alone.
"""

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetPartitionStatus, DagsterInstance

from conftest import SampleRun, copy_run, make_settings
from graph import run_selection
from movie_assets.automation.jobs import FULL_TABLE_TESTS, RETYPE_EVERY_DAY
from movie_assets.definitions import build_definitions
from movie_assets.partitions import build_daily_partitions
from movie_assets.settings import Settings
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE
from movie_assets.warehouse.lake import Lake
from support.dbt_cli import dbt
from test_star_schema import DAY_1, DAY_2, TMDB_CHAIN, expected, later_snapshot  # noqa: F401 (expected: a fixture)

DAY_AFTER = "2026-11-22"
# The day-by-day assets of TMDB_CHAIN (the movie history's silver table is not in it).
CHAIN_DAY_BY_DAY = [AssetKey(["silver", "tmdb_movie_snapshots"]), AssetKey(["gold", "fact_movie_daily"])]
DAY_BY_DAY = {"silver.tmdb_movie_snapshots": "snapshot_date", "gold.fact_movie_daily": "date_id"}
# A value no fetch gives, written over day 1's typed rows: still there after day 2's run means
# that run did not re-type day 1.
SENTINEL_POPULARITY = -1.0


def differences_from_full_refresh(settings: Settings, work: Path) -> dict[str, tuple[int, int]]:
    """``{table: (rows only in the incremental table, rows only in a full rebuild)}``, counted
    with duplicates (EXCEPT ALL), for the day-by-day tables. The rebuild runs on a copy of the
    build file over the same lake, so the incremental build is left as it was."""
    shutil.rmtree(work, ignore_errors=True)
    rebuilt = make_settings(work, lake_dir=settings.lake_dir)
    rebuilt.build_duckdb_path.parent.mkdir(parents=True)
    shutil.copyfile(settings.build_duckdb_path, rebuilt.build_duckdb_path)
    dbt(rebuilt, work, "run", "--full-refresh", "--select", "tmdb_movie_snapshots", "fact_movie_daily")
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        conn.execute(f"ATTACH '{rebuilt.build_duckdb_path}' AS rebuilt (READ_ONLY)")
        return {
            table: tuple(
                conn.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone()[0]
                for a, b in ((table, f"rebuilt.{table}"), (f"rebuilt.{table}", table))
            )
            for table in DAY_BY_DAY
        }


def day_rows(settings: Settings) -> dict[str, dict]:
    """Rows per day (keyed by the day as ISO text) of each day-by-day table, and the number of
    sentinel rows in the snapshots."""
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        counts = {
            table: {
                str(key) if table.startswith("silver") else f"{str(key)[:4]}-{str(key)[4:6]}-{str(key)[6:]}": rows
                for key, rows in conn.execute(f"SELECT {day}, count(*) FROM {table} GROUP BY {day}").fetchall()
            }
            for table, day in DAY_BY_DAY.items()
        }
        counts["sentinels"] = conn.execute("SELECT count(*) FROM silver.tmdb_movie_snapshots WHERE popularity = ?", [SENTINEL_POPULARITY]).fetchone()[
            0
        ]
    return counts


@pytest.fixture(scope="module")
def daily_runs(tmp_path_factory: pytest.TempPathFactory, sample_run: SampleRun) -> dict:
    """The sequence of runs; after each, the tables' rows per day and their differences from a
    full rebuild. Returns ``{step: {"rows": day_rows, "differences": ...}}`` and the settings."""
    root = tmp_path_factory.mktemp("daily_incremental")
    settings = copy_run(sample_run, root / "run")
    later = {"tmdb": later_snapshot(settings)}
    with duckdb.connect(str(settings.build_duckdb_path)) as conn:
        conn.execute("UPDATE silver.tmdb_movie_snapshots SET popularity = ?", [SENTINEL_POPULARITY])
    observed: dict = {"settings": settings}
    instance = DagsterInstance.ephemeral()
    for step, partition in [("day_2", DAY_2), ("day_1_again", DAY_1)]:
        result = run_selection(settings, TMDB_CHAIN, resources=later, partition_key=partition, instance=instance)
        assert result.success, step
        observed[step] = {"rows": day_rows(settings), "differences": differences_from_full_refresh(settings, root / step)}
    # What the UI's partitions view of the day-by-day assets the chain builds shows: the status per day.
    observed["partition_status"] = {
        key: instance.get_status_by_partition(key, [DAY_1, DAY_2, DAY_AFTER], build_daily_partitions(settings)) for key in CHAIN_DAY_BY_DAY
    }
    # A re-fetch of day 2 in which no movie answered: the partition holds no row.
    lake = Lake(settings.lake_dir)
    with duckdb.connect() as conn:
        day_2 = conn.sql(f"SELECT * FROM read_parquet('{lake.partition_file(TMDB_MOVIES_TABLE, DAY_2)}')").to_arrow_table()
    lake.write_partition(TMDB_MOVIES_TABLE, DAY_2, day_2.slice(0, 0))
    window = {"min_date": DAY_2, "max_date": DAY_AFTER}
    dbt(settings, root / "empty_day", "run", "--select", "tmdb_movie_snapshots", "fact_movie_daily", window=window)
    observed["day_2_empty"] = {
        "rows": day_rows(settings),
        "differences": differences_from_full_refresh(settings, root / "day_2_empty_rebuilt"),
    }
    # Day 2 back and day 1 emptied, then an incremental run without a window: every day again.
    lake.write_partition(TMDB_MOVIES_TABLE, DAY_2, day_2)
    lake.write_partition(TMDB_MOVIES_TABLE, DAY_1, day_2.slice(0, 0))
    dbt(settings, root / "no_window", "run", "--select", "tmdb_movie_snapshots", "fact_movie_daily")
    observed["no_window"] = {
        "rows": day_rows(settings),
        "differences": differences_from_full_refresh(settings, root / "no_window_rebuilt"),
    }
    return observed


@pytest.mark.parametrize("step", ["day_1_again", "day_2_empty", "no_window"])
def test_day_by_day_tables_equal_a_full_rebuild(daily_runs: dict, step: str):
    assert daily_runs[step]["differences"] == {table: (0, 0) for table in DAY_BY_DAY}


def test_the_partitions_view_of_each_day_by_day_table_lists_the_days_its_runs_built(daily_runs: dict):
    materialized = {DAY_1: AssetPartitionStatus.MATERIALIZED, DAY_2: AssetPartitionStatus.MATERIALIZED, DAY_AFTER: None}
    assert daily_runs["partition_status"] == dict.fromkeys(CHAIN_DAY_BY_DAY, materialized)


def test_a_daily_run_types_only_its_own_days(daily_runs: dict, expected: dict):  # noqa: F811 (expected: the fixture)
    after_day_2, after_day_1 = daily_runs["day_2"]["rows"], daily_runs["day_1_again"]["rows"]
    day_1_movies = len(expected["first"])
    # Day 2's run left day 1 as it was, sentinels included: they are its only difference from a
    # full rebuild. Day 1's re-fetch replaced them.
    assert after_day_2["sentinels"] == after_day_2["silver.tmdb_movie_snapshots"][DAY_1] == day_1_movies
    assert daily_runs["day_2"]["differences"] == {
        "silver.tmdb_movie_snapshots": (day_1_movies, day_1_movies),
        "gold.fact_movie_daily": (0, 0),
    }
    assert after_day_1["sentinels"] == 0
    # Day 1 now holds what the later file answered: fewer movies than the first fetch.
    assert after_day_1["gold.fact_movie_daily"][DAY_1] == len(expected["later"]) < len(expected["first"])


def test_a_day_refetched_with_no_movie_ends_empty(daily_runs: dict):
    rows = daily_runs["day_2_empty"]["rows"]
    assert DAY_2 not in rows["silver.tmdb_movie_snapshots"]
    assert DAY_1 in rows["silver.tmdb_movie_snapshots"]
    assert set(rows["gold.fact_movie_daily"]) == {DAY_1}


def test_full_table_tests_job_tests_every_day_and_passes(daily_runs: dict):
    settings = daily_runs["settings"]
    job = build_definitions(settings).resolve_job_def(FULL_TABLE_TESTS)
    result = job.execute_in_process(raise_on_error=False)
    evaluations = result.get_asset_check_evaluations()
    assert {evaluation.asset_key.path[1] for evaluation in evaluations} == {
        "tmdb_movie_snapshots",
        "tmdb_movie_attribute_snapshots",
        "fact_movie_daily",
    }
    assert len(evaluations) >= 10
    assert all(evaluation.passed for evaluation in evaluations)
    assert result.success


def test_a_run_without_window_rebuilds_every_day(daily_runs: dict):
    rows = daily_runs["no_window"]["rows"]
    for table in DAY_BY_DAY:
        assert set(rows[table]) == {DAY_2}, table


def test_a_column_added_to_the_snapshots_reaches_a_build_file_made_before_it(sample_run: SampleRun, tmp_path: Path):
    """``on_schema_change: append_new_columns``: a warehouse built before ``fetched_by_run_id``
    and ``tmdb_source`` existed gets them from the next daily run, filled on the run's days."""
    settings = copy_run(sample_run, tmp_path / "run")
    with duckdb.connect(str(settings.build_duckdb_path)) as conn:
        conn.execute("ALTER TABLE silver.tmdb_movie_snapshots DROP COLUMN fetched_by_run_id")
        conn.execute("ALTER TABLE silver.tmdb_movie_snapshots DROP COLUMN tmdb_source")
    window = {"min_date": DAY_1, "max_date": DAY_2}
    dbt(settings, tmp_path / "dbt", "run", "--select", "tmdb_movie_snapshots", window=window)
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        filled = conn.execute(
            "SELECT count(*), count(fetched_by_run_id), count(tmdb_source) FROM silver.tmdb_movie_snapshots WHERE snapshot_date = ?",
            [DAY_1],
        ).fetchone()
    assert filled[0] > 0 and filled == (filled[0],) * 3


def test_the_retype_job_types_every_day_and_fills_a_column_added_since(sample_run: SampleRun, tmp_path: Path):
    """The upgrade path of README "Daily partitions and the schedule": ``retype_every_day``
    runs the partitioned silver models without a partition, so every day is typed again."""
    settings = copy_run(sample_run, tmp_path / "run")
    with duckdb.connect(str(settings.build_duckdb_path)) as conn:
        conn.execute("ALTER TABLE silver.tmdb_movie_snapshots DROP COLUMN tmdb_source")
        days = conn.execute("SELECT snapshot_date, count(*) FROM silver.tmdb_movie_snapshots GROUP BY ALL ORDER BY 1").fetchall()
    result = build_definitions(settings).resolve_job_def(RETYPE_EVERY_DAY).execute_in_process(raise_on_error=False)
    assert result.success
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        filled = conn.execute(
            "SELECT snapshot_date, count(*), count(tmdb_source) FROM silver.tmdb_movie_snapshots GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert days and filled == [(day, rows, rows) for day, rows in days]


def test_window_scoped_tests_skip_other_days_and_the_weekly_job_catches_them(sample_run: SampleRun, tmp_path: Path):
    """A duplicate (day, movie) in an older day: a run's tests, scoped to its window, do not
    see it; the same tests without a window do, and so does the weekly full_table_tests job."""
    settings = copy_run(sample_run, tmp_path / "run")
    with duckdb.connect(str(settings.build_duckdb_path)) as conn:
        conn.execute("INSERT INTO gold.fact_movie_daily SELECT * FROM gold.fact_movie_daily LIMIT 1")
    fact_tests = ("test", "--select", "fact_movie_daily", "--exclude-resource-type", "unit_test")
    dbt(settings, tmp_path / "window", *fact_tests, window={"min_date": DAY_2, "max_date": DAY_AFTER})
    with pytest.raises(subprocess.CalledProcessError):
        dbt(settings, tmp_path / "no_window", *fact_tests)
    result = build_definitions(settings).resolve_job_def(FULL_TABLE_TESTS).execute_in_process(raise_on_error=False)
    failed = {evaluation.check_name for evaluation in result.get_asset_check_evaluations() if not evaluation.passed}
    assert failed == {"unique_combination_of_columns_fact_movie_daily_date_id__movie_id"}
