"""The observation rule (movie_assets/tmdb/observation.py) at exact instants, and what the
run summary and the command line make of it."""

from datetime import UTC, date, datetime

import pytest

from movie_assets.automation.run_summary import RunSummary, format_summary, observation_line, unobserved_days_line
from movie_assets.tmdb.observation import (
    missing_observation_message,
    observation_deadline,
    plan_observation,
    refetch_run_config,
)

DAY = date(2026, 12, 3)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_deadline_is_the_end_of_the_day_plus_the_grace_hours():
    assert observation_deadline(DAY, 6) == at("2026-12-04T06:00:00")
    assert observation_deadline(DAY, 0) == at("2026-12-04T00:00:00")


@pytest.mark.parametrize(
    ("now", "grace_hours", "expected"),
    [
        ("2026-12-03T00:00:00", 6, "observe"),  # the day itself
        ("2026-12-03T23:59:59", 0, "observe"),
        ("2026-12-04T05:59:59", 6, "observe"),  # a retry just after midnight: still that day's
        ("2026-12-04T06:00:00", 6, "missing"),  # the grace hours are over
        ("2026-12-04T00:00:00", 0, "missing"),
        ("2026-12-30T12:00:00", 24, "missing"),
    ],
)
def test_a_day_is_observed_until_its_grace_hours_end(now: str, grace_hours: int, expected: str):
    assert plan_observation(DAY, at(now), grace_hours, refetch=False, in_lake=False) == expected


def test_a_past_day_is_kept_when_observed_and_fetched_only_on_request():
    late = at("2026-12-04T16:00:00")
    assert plan_observation(DAY, late, 6, refetch=False, in_lake=True) == "keep"
    assert plan_observation(DAY, late, 6, refetch=True, in_lake=True) == "late"
    assert plan_observation(DAY, late, 6, refetch=True, in_lake=False) == "late"
    # Within the day, refetch changes nothing: it is a normal observation.
    assert plan_observation(DAY, at("2026-12-03T12:00:00"), 6, refetch=True, in_lake=True) == "observe"


def test_refetch_reaches_only_a_job_that_runs_the_fetch():
    assert refetch_run_config({"tmdb_movies", "dbt_models"}, True) == {"ops": {"tmdb_movies": {"config": {"refetch": True}}}}
    assert refetch_run_config({"dbt_models"}, True) == {}
    assert refetch_run_config({"tmdb_movies"}, False) == {}


def test_the_summary_says_when_a_day_has_no_observation():
    summary = RunSummary(run_id="r1", partition="2026-12-02", succeeded=True, observation="missing")
    lines = format_summary(summary, {}, {}, "live", {}).splitlines()
    assert lines[1] == (
        "  no TMDB observation for 2026-12-02: TMDB serves only current values; run with refetch to store today's values as that day's"
    )
    assert lines[1].strip() == missing_observation_message("2026-12-02")
    assert "observed_late" in observation_line("2026-12-02", "late")
    assert "kept" in observation_line("2026-12-02", "keep")
    assert observation_line("2026-12-02", "observe") is None


def test_a_backfill_ends_naming_the_days_without_observation():
    assert unobserved_days_line([]) is None
    line = unobserved_days_line(["2026-12-01", "2026-12-02"])
    assert line.startswith("no TMDB observation, nothing written: 2026-12-01, 2026-12-02;")
    assert "--refetch" in line and "REFETCH=1" in line
