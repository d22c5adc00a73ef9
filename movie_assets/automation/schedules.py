"""The 06:00 UTC schedule of the daily job, and the Sunday 07:00 UTC one of the full-table tests.

The schedule is on when the definitions load (``DefaultScheduleStatus.RUNNING``) and runs
while the Dagster daemon does (``make dev``). Turn it off or on in the UI (Automation →
``daily_refresh_schedule``), with ``dagster schedule stop|start daily_refresh_schedule``,
or for good by setting ``MOVIES_SCHEDULE_ENABLED=false``.
"""

from dagster import DefaultScheduleStatus, ScheduleDefinition, build_schedule_from_partitioned_job


def build_daily_refresh_schedule(job, enabled: bool) -> ScheduleDefinition:
    """``daily_refresh_schedule``: every day at 06:00 UTC, ``job`` for that day's partition;
    running by default when ``enabled`` (``MOVIES_SCHEDULE_ENABLED``), else stopped.

    With the partitions' ``end_offset=1`` the newest partition at 06:00 UTC is the current
    day, so each tick fetches that morning's snapshot.
    """
    return build_schedule_from_partitioned_job(
        job,
        name="daily_refresh_schedule",
        description="Every day at 06:00 UTC: the daily_refresh job for that day's partition.",
        hour_of_day=6,
        minute_of_hour=0,
        default_status=DefaultScheduleStatus.RUNNING if enabled else DefaultScheduleStatus.STOPPED,
    )


def build_full_table_tests_schedule(job, enabled: bool) -> ScheduleDefinition:
    """``full_table_tests_schedule``: ``job`` (the full-table dbt tests) every Sunday at 07:00
    UTC, an hour after that day's daily run starts; on or off with ``enabled``, like the daily one.
    """
    return ScheduleDefinition(
        name="full_table_tests_schedule",
        job=job,
        cron_schedule="0 7 * * 0",
        execution_timezone="UTC",
        description="Every Sunday at 07:00 UTC: the dbt tests of the daily tables over every day.",
        default_status=DefaultScheduleStatus.RUNNING if enabled else DefaultScheduleStatus.STOPPED,
    )
