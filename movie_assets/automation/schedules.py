"""The daily job and its 06:00 UTC schedule.

``daily_refresh`` materializes the whole graph for one daily partition: the partitioned
assets (bronze TMDB snapshot, the daily fact) for that day, the unpartitioned ones
(dimensions, provider loads, reports) once per run from the latest data.

The schedule is on when the definitions load (``DefaultScheduleStatus.RUNNING``) and runs
while the Dagster daemon does (``make dev``). Turn it off or on in the UI (Automation →
``daily_refresh_schedule``), with ``dagster schedule stop|start daily_refresh_schedule``,
or for good by setting ``MOVIES_SCHEDULE_ENABLED=false``.
"""

import os

from dagster import AssetSelection, DefaultScheduleStatus, build_schedule_from_partitioned_job, define_asset_job

from movie_assets.partitions import daily_partitions

daily_refresh_job = define_asset_job(
    "daily_refresh",
    selection=AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Fetch the day's TMDB snapshot and rebuild silver, gold and the reports.",
)


def schedule_default_status() -> DefaultScheduleStatus:
    """RUNNING unless ``MOVIES_SCHEDULE_ENABLED`` is ``false``/``0``/``no``/``off``."""
    raw = os.environ.get("MOVIES_SCHEDULE_ENABLED", "").strip().lower()
    return DefaultScheduleStatus.STOPPED if raw in {"false", "0", "no", "off"} else DefaultScheduleStatus.RUNNING


# With end_offset=1 the newest partition at 06:00 UTC is the current day, so each tick
# fetches that morning's snapshot.
daily_refresh_schedule = build_schedule_from_partitioned_job(
    daily_refresh_job,
    name="daily_refresh_schedule",
    description="Every day at 06:00 UTC: the daily_refresh job for that day's partition.",
    hour_of_day=6,
    minute_of_hour=0,
    default_status=schedule_default_status(),
)
