"""The daily schedule: cadence, default status, and the partition each tick targets."""

from datetime import datetime, timezone

import pytest
from dagster import DefaultScheduleStatus, RunRequest, build_schedule_context

from movie_assets.definitions import defs
from movie_assets.partitions import partition_start
from movie_assets.automation.schedules import schedule_default_status


@pytest.fixture(scope="module")
def schedule():
    return defs.resolve_schedule_def("daily_refresh_schedule")


def test_runs_daily_at_six_utc_and_is_on_by_default(schedule):
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "daily_refresh"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING


def test_tick_requests_that_days_partition(schedule):
    tick_time = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)
    with build_schedule_context(scheduled_execution_time=tick_time) as context:
        result = schedule.evaluate_tick(context)
    assert [request.partition_key for request in result.run_requests] == ["2026-11-21"]
    assert all(isinstance(request, RunRequest) for request in result.run_requests)


def test_schedule_can_be_disabled_by_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MOVIES_SCHEDULE_ENABLED", "false")
    assert schedule_default_status() == DefaultScheduleStatus.STOPPED
    monkeypatch.setenv("MOVIES_SCHEDULE_ENABLED", "")
    assert schedule_default_status() == DefaultScheduleStatus.RUNNING


def test_partition_start_is_configurable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MOVIES_PARTITION_START", "2026-03-01")
    assert partition_start() == "2026-03-01"
    monkeypatch.setenv("MOVIES_PARTITION_START", "03/01/2026")
    with pytest.raises(ValueError, match="MOVIES_PARTITION_START"):
        partition_start()
