"""The jobs: ``daily_refresh`` materializes the whole graph for one daily partition;
``full_table_tests`` runs the dbt tests of the day-by-day tables over every day (both
scheduled); ``retype_every_day`` types every day again in silver, by hand.

The partitioned assets (bronze TMDB snapshot, the typed snapshots in silver, the daily fact)
run for that day, the unpartitioned ones (dimensions, provider loads, reports) once per run
from the latest data.
"""

from collections.abc import Sequence

from dagster import AssetChecksDefinition, AssetKey, AssetsDefinition, AssetSelection, DailyPartitionsDefinition, define_asset_job

from movie_assets.run_tags import WRITES_WAREHOUSE_TAGS

DAILY_REFRESH = "daily_refresh"
FULL_TABLE_TESTS = "full_table_tests"
RETYPE_EVERY_DAY = "retype_every_day"
#: The tables built day by day, whose per-day dbt tests a daily run scopes to its window.
DAY_BY_DAY_TABLES = (
    AssetKey(["silver", "tmdb_movie_snapshots"]),
    AssetKey(["silver", "tmdb_movie_attribute_snapshots"]),
    AssetKey(["gold", "fact_movie_daily"]),
)


def build_daily_refresh_job(partitions: DailyPartitionsDefinition, without_checks: Sequence[AssetChecksDefinition] = ()):
    """The job ``daily_refresh`` over every asset and check, partitioned by ``partitions``,
    except the checks ``without_checks`` (the freshness checks: they judge the instance's
    history on their own schedule, not the day a run builds)."""
    return define_asset_job(
        DAILY_REFRESH,
        selection=AssetSelection.all() - AssetSelection.checks(*without_checks),
        partitions_def=partitions,
        tags=WRITES_WAREHOUSE_TAGS,
        description="Fetch the day's TMDB snapshot and rebuild silver, gold and the reports.",
    )


def build_full_table_tests_job():
    """The job ``full_table_tests``: the dbt tests (asset checks) of :data:`DAY_BY_DAY_TABLES`
    over whole tables.

    A daily run tests only its own days (dbt ``where`` config fed by the partition window); this
    unpartitioned run of the checks alone gets no window, so it also catches what a
    window cannot see: a day changed outside a daily run, or a duplicate across days.
    """
    return define_asset_job(
        FULL_TABLE_TESTS,
        selection=AssetSelection.checks_for_assets(*DAY_BY_DAY_TABLES),
        # Reads the build file, which DuckDB cannot open beside a writing process.
        tags=WRITES_WAREHOUSE_TAGS,
        description="Run the dbt tests of the daily snapshot and fact tables over every day.",
    )


def build_retype_every_day_job(daily_silver: AssetsDefinition, unpartitioned: AssetsDefinition):
    """The job ``retype_every_day``: the day-by-day silver models (``daily_silver``) and the
    unpartitioned dbt models (``unpartitioned``) with their tests, in a run without a
    partition, so silver types every day in bronze again and the movie history is derived
    again for every movie.

    For after an upgrade that adds a column to a day-by-day silver table (README, "Daily
    partitions and the schedule"): ``dagster asset materialize`` refuses partitioned assets
    without a partition, and a run per day would take one dbt build per day. The daily fact is
    left out: Dagster cannot run a partitioned asset fed by another partitioned asset without
    a partition (it asks the run for the input's partitions). Launched from the UI, leave the
    partition empty: with one, it is that day's run.
    """
    return define_asset_job(
        RETYPE_EVERY_DAY,
        selection=AssetSelection.assets(daily_silver, unpartitioned),
        tags=WRITES_WAREHOUSE_TAGS,
        description="Type every day in bronze again in silver and rebuild the unpartitioned models (no partition).",
    )
