"""The daily job: ``daily_refresh`` materializes the whole graph for one daily partition.

The partitioned assets (bronze TMDB snapshot, the daily fact) run for that day, the
unpartitioned ones (dimensions, provider loads, reports) once per run from the latest data.
"""

from dagster import AssetSelection, DailyPartitionsDefinition, define_asset_job

DAILY_REFRESH = "daily_refresh"


def build_daily_refresh_job(partitions: DailyPartitionsDefinition):
    """The job ``daily_refresh`` over every asset, partitioned by ``partitions``."""
    return define_asset_job(
        DAILY_REFRESH,
        selection=AssetSelection.all(),
        partitions_def=partitions,
        description="Fetch the day's TMDB snapshot and rebuild silver, gold and the reports.",
    )
