"""When a TMDB fetch counts as a day's observation, and what a run does for a past day.

TMDB's API answers with current values only (popularity, votes, budget, revenue as they are
at the moment of the request); no request returns what they were on a past day. A daily
partition is therefore observed by a fetch made during that UTC day or within
``MOVIES_OBSERVATION_GRACE_HOURS`` after it ends (a run retried just after midnight still
observes its day). A later fetch is a *late observation*: today's values filed under the
past day. Silver and gold derive the same rule from bronze ``fetched_at``
(``observed_date``, ``observed_late``; dbt var ``observation_grace_hours``).

:func:`plan_observation` decides what a run of ``bronze/tmdb_movies`` does:

- ``observe``: the day is still open (or in its grace hours): fetch as usual.
- ``keep``: a past day already in the lake: fetch nothing, keep its bronze as it is, and let
  silver and gold re-derive from it (a backfill of transforms).
- ``missing``: a past day with no bronze: write nothing and say so.
- ``late``: a past day with ``refetch``: fetch now and store the answer under the day, marked
  late downstream.

The clock is read only by :func:`utc_now`; every decision takes ``now`` as a value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Observation = Literal["observe", "keep", "missing", "late"]
#: The op of the multi-asset ``bronze/tmdb_movies`` (its run config carries ``refetch``).
TMDB_FETCH_OP = "tmdb_movies"


def utc_now() -> datetime:
    """The current time, UTC (timezone-aware): the one place the observation rule reads the clock."""
    return datetime.now(UTC)


def observation_deadline(partition_date: date, grace_hours: int) -> datetime:
    """The UTC instant after which a fetch no longer observes ``partition_date``: the end of
    that day (next midnight, UTC) plus ``grace_hours``."""
    return datetime.combine(partition_date + timedelta(days=1), time(), UTC) + timedelta(hours=grace_hours)


def is_late(partition_date: date, fetched_at: datetime, grace_hours: int) -> bool:
    """True when a fetch at ``fetched_at`` (timezone-aware) is too late to observe ``partition_date``."""
    return fetched_at >= observation_deadline(partition_date, grace_hours)


def plan_observation(partition_date: date, now: datetime, grace_hours: int, refetch: bool, in_lake: bool) -> Observation:
    """What a run of ``bronze/tmdb_movies`` for ``partition_date`` does at ``now`` (see the
    module docstring). ``in_lake``: the day already has a ``bronze/tmdb_movies`` file."""
    if not is_late(partition_date, now, grace_hours):
        return "observe"
    if refetch:
        return "late"
    return "keep" if in_lake else "missing"


def missing_observation_message(partition_date: str) -> str:
    """The one line a run (and the backfill's end) says for a past day that has no observation."""
    return f"no TMDB observation for {partition_date}: TMDB serves only current values; run with refetch to store today's values as that day's"


def refetch_run_config(op_names: set[str], refetch: bool) -> dict:
    """Run config setting ``refetch`` on the TMDB fetch (``ops.tmdb_movies.config.refetch``)
    when ``refetch`` is asked for and the job runs that op (``op_names``); else empty.

    Dagster rejects config for an op the job does not run, hence the check.
    """
    if not refetch or TMDB_FETCH_OP not in op_names:
        return {}
    return {"ops": {TMDB_FETCH_OP: {"config": {"refetch": True}}}}
