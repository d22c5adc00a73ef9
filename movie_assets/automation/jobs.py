"""The jobs of the schedules: ``daily_refresh`` materializes the whole graph for one daily
partition; ``full_table_tests`` runs the dbt tests of the day-by-day tables over every day.

The partitioned assets (bronze TMDB snapshot, the daily fact) run for that day, the
unpartitioned ones (dimensions, provider loads, reports) once per run from the latest data.
"""

from dagster import AssetKey, AssetSelection, DailyPartitionsDefinition, define_asset_job

DAILY_REFRESH = "daily_refresh"
FULL_TABLE_TESTS = "full_table_tests"
#: The tables built day by day, whose per-day dbt tests a daily run scopes to its window.
DAY_BY_DAY_TABLES = (
    AssetKey(["silver", "tmdb_movie_snapshots"]),
    AssetKey(["silver", "tmdb_movie_attribute_snapshots"]),
    AssetKey(["gold", "fact_movie_daily"]),
)


def build_daily_refresh_job(partitions: DailyPartitionsDefinition):
    """The job ``daily_refresh`` over every asset, partitioned by ``partitions``."""
    return define_asset_job(
        DAILY_REFRESH,
        selection=AssetSelection.all(),
        partitions_def=partitions,
        description="Fetch the day's TMDB snapshot and rebuild silver, gold and the reports.",
    )


def build_full_table_tests_job():
    """The job ``full_table_tests``: the dbt tests (asset checks) of :data:`DAY_BY_DAY_TABLES`
    over whole tables.

    A daily run tests only its own days (dbt ``where`` config fed by the window vars); this
    unpartitioned run of the checks alone gets no window vars, so it also catches what a
    window cannot see: a day changed outside a daily run, or a duplicate across days.
    """
    return define_asset_job(
        FULL_TABLE_TESTS,
        selection=AssetSelection.checks_for_assets(*DAY_BY_DAY_TABLES),
        description="Run the dbt tests of the daily snapshot and fact tables over every day.",
    )
