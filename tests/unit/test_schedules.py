"""The daily schedule: cadence, default status from ``Settings.schedule_enabled``, the partition
each tick targets, and the first partition from ``Settings.partition_start``.

Built from the job and partitions alone (no dbt manifest), as ``build_definitions`` does.
"""

from datetime import UTC, date, datetime

import pytest
from dagster import DefaultScheduleStatus, RunRequest, build_schedule_context

from movie_assets.automation.jobs import build_daily_refresh_job, build_full_table_tests_job
from movie_assets.automation.schedules import build_daily_refresh_schedule, build_full_table_tests_schedule
from movie_assets.partitions import build_daily_partitions
from movie_assets.settings import Settings


def schedule_for(settings: Settings):
    job = build_daily_refresh_job(build_daily_partitions(settings))
    return build_daily_refresh_schedule(job, settings.schedule_enabled)


def test_runs_daily_at_six_utc_and_is_on_by_default():
    schedule = schedule_for(Settings(_env_file=None, schedule_enabled=True))
    assert schedule.name == "daily_refresh_schedule"
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "daily_refresh"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING


def test_tick_requests_that_days_partition():
    schedule = schedule_for(Settings(_env_file=None, partition_start=date(2026, 1, 1)))
    tick_time = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    with build_schedule_context(scheduled_execution_time=tick_time) as context:
        result = schedule.evaluate_tick(context)
    assert [request.partition_key for request in result.run_requests] == ["2026-11-21"]
    assert all(isinstance(request, RunRequest) for request in result.run_requests)


@pytest.mark.parametrize(("variable", "status"), [("false", DefaultScheduleStatus.STOPPED), ("", DefaultScheduleStatus.RUNNING)])
def test_schedule_status_follows_the_environment(monkeypatch: pytest.MonkeyPatch, variable: str, status):
    # An empty variable counts as unset: the default (on) applies.
    monkeypatch.setenv("MOVIES_SCHEDULE_ENABLED", variable)
    assert schedule_for(Settings(_env_file=None)).default_status == status


def test_schedule_can_be_disabled_explicitly():
    assert schedule_for(Settings(_env_file=None, schedule_enabled=False)).default_status == DefaultScheduleStatus.STOPPED


def test_partition_start_is_configurable():
    partitions = build_daily_partitions(Settings(_env_file=None, partition_start=date(2026, 3, 1)))
    assert partitions.get_first_partition_key() == "2026-03-01"
    assert partitions.timezone == "UTC"


def test_full_table_tests_run_weekly_on_sunday_after_the_daily_run():
    enabled = Settings(_env_file=None, schedule_enabled=True).schedule_enabled
    schedule = build_full_table_tests_schedule(build_full_table_tests_job(), enabled)
    assert schedule.job_name == "full_table_tests"
    assert schedule.cron_schedule == "0 7 * * 0"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
