"""The jobs: ``daily_refresh`` materializes the whole graph for one daily partition;
``full_table_tests`` runs the dbt tests of the day-by-day tables over every day (both
scheduled); ``rebuild_silver_and_gold`` rebuilds every dbt model from every day, by hand.

The partitioned assets (bronze TMDB snapshot, the daily fact) run for that day, the
unpartitioned ones (dimensions, provider loads, reports) once per run from the latest data.
"""

from collections.abc import Sequence

from dagster import AssetChecksDefinition, AssetKey, AssetsDefinition, AssetSelection, DailyPartitionsDefinition, define_asset_job

from movie_assets.run_tags import WRITES_WAREHOUSE_TAGS

DAILY_REFRESH = "daily_refresh"
FULL_TABLE_TESTS = "full_table_tests"
REBUILD_SILVER_AND_GOLD = "rebuild_silver_and_gold"
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


def build_rebuild_silver_and_gold_job(dbt_models: Sequence[AssetsDefinition]):
    """The job ``rebuild_silver_and_gold``: every dbt model of ``dbt_models`` and its tests, in
    a run without a partition, so the day-by-day models type every day in bronze and the
    movie history is derived again for every movie.

    For after an upgrade that adds a column to a day-by-day table (README, "Daily partitions
    and the schedule"): ``dagster asset materialize`` refuses partitioned assets without a
    partition, and a run per day would take one dbt build per day.
    """
    return define_asset_job(
        REBUILD_SILVER_AND_GOLD,
        selection=AssetSelection.assets(*dbt_models),
        tags=WRITES_WAREHOUSE_TAGS,
        description="Rebuild silver and gold from every day in bronze (no partition window).",
    )
