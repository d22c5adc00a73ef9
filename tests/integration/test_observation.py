"""Backfills are honest about time: TMDB serves only current values, so a past day is never
filled with today's values as if observed then (movie_assets/tmdb/observation.py).

- a re-run of a past day already in the lake fetches nothing, keeps its bronze byte for
  byte and re-derives silver and gold from it;
- a backfill over past days without an observation writes nothing for them and names them;
  with refetch they land marked ``observed_late``, ``observed_date`` today;
- a run for yesterday is observed normally within the grace hours, not after them;
- the fact marks the late days (the workbook and the dashboard: test_reports, test_dashboard).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
from dagster import AssetKey, DagsterEventType, materialize

from conftest import DAY, SampleRun, copy_run, make_settings
from graph import TMDB_CHAIN, run_selection
from movie_assets.definitions import build_resources
from movie_assets.partitions import build_daily_partitions
from movie_assets.settings import REPO_ROOT, Settings
from movie_assets.tmdb.assets import build_tmdb_assets
from movie_assets.tmdb.resources import TMDBResource
from movie_assets.warehouse.lake import Lake

NO_REFETCH = {"ops": {"tmdb_movies": {"config": {"refetch": False}}}}
DAY_ID = int(DAY.replace("-", ""))
BEFORE, AFTER = "2026-11-19", "2026-11-21"
#: The TMDB fetch and the day-by-day tables (the copied warehouse has every other model).
DAILY_SELECTION = "bronze/tmdb_movies,silver/tmdb_movie_snapshots,gold/dim_date,gold/fact_movie_daily"


def unreachable_tmdb() -> TMDBResource:
    """A TMDB resource whose every request would fail: a run using it must not fetch."""
    return TMDBResource(base_url="http://127.0.0.1:9/3", rate_limit=1, max_concurrency=1, timeout=0.2, max_retries=0)


def day_files(lake: Lake, day: str) -> tuple[bytes, bytes]:
    return (
        lake.partition_file("tmdb_movies", day).read_bytes(),
        lake.partition_file("tmdb_dead_letter", day).read_bytes(),
    )


def fact_days(build_file: Path) -> list[tuple]:
    """(date_id, rows, late rows, distinct observed dates) per day of the fact."""
    with duckdb.connect(str(build_file), read_only=True) as conn:
        return conn.execute(
            "SELECT date_id, count(*), count(*) FILTER (WHERE observed_late), list(DISTINCT observed_date) "
            "FROM gold.fact_movie_daily GROUP BY date_id ORDER BY date_id"
        ).fetchall()


def test_the_fact_marks_a_refetched_day_as_a_late_observation(sample_run: SampleRun):
    # The session's sample day is a past day fetched today (a refetch).
    with duckdb.connect(str(sample_run.settings.build_duckdb_path), read_only=True) as conn:
        (fetched_on,) = conn.execute("SELECT DISTINCT CAST(timezone('UTC', fetched_at) AS DATE) FROM gold.fact_movie_daily").fetchone()
        late = conn.execute("SELECT count(*) FROM gold.rpt_late_observations WHERE snapshot_date = ?", [DAY]).fetchone()
    assert fact_days(sample_run.settings.build_duckdb_path) == [(DAY_ID, 300, 300, [fetched_on])]
    assert fetched_on > date.fromisoformat(DAY) and late == (1,)


def test_rerunning_an_observed_past_day_fetches_nothing_and_rederives_gold(sample_run: SampleRun, tmp_path: Path):
    settings = copy_run(sample_run, tmp_path)
    lake = Lake(settings.lake_dir)
    before = day_files(lake, DAY)
    with duckdb.connect(str(settings.build_duckdb_path)) as conn:
        conn.execute("DELETE FROM gold.fact_movie_daily")
    result = run_selection(settings, TMDB_CHAIN, partition_key=DAY, run_config=NO_REFETCH, resources={"tmdb": unreachable_tmdb()})
    assert result.success
    assert day_files(lake, DAY) == before
    fetch = {
        event.asset_key.path[-1]: event.materialization.metadata["observation"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[0] == "bronze"
    }
    assert fetch == {"tmdb_movies": "keep", "tmdb_dead_letter": "keep"}
    assert [event.partition for event in result.get_asset_materialization_events() if event.asset_key == AssetKey(["gold", "fact_movie_daily"])] == [
        DAY
    ]
    assert [(day, rows, late) for day, rows, late, _ in fact_days(settings.build_duckdb_path)] == [(DAY_ID, 300, 300)]


def fetch_day(settings: Settings, day: str, grace_hours: int):
    """``bronze/tmdb_movies`` alone for ``day`` with ``grace_hours``, without refetch."""
    return materialize(
        build_tmdb_assets(build_daily_partitions(settings), grace_hours),
        resources=build_resources(settings),
        partition_key=day,
        run_config=NO_REFETCH,
    )


def test_yesterday_is_observed_within_the_grace_hours_and_not_after(tmp_path: Path, sample_data: Path):
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    # With 24 grace hours yesterday is still open whatever the time of day; with 0 it is over.
    late = make_settings(tmp_path / "late")
    result = fetch_day(late, yesterday, grace_hours=0)
    assert result.success
    observations = [
        event.event_specific_data.asset_observation.metadata["observation"].value
        for event in result.all_events
        if event.event_type == DagsterEventType.ASSET_OBSERVATION
    ]
    assert observations == ["missing"] and result.get_asset_materialization_events() == []
    assert not (late.lake_dir / "bronze").exists()

    on_time = make_settings(tmp_path / "on_time")
    result = fetch_day(on_time, yesterday, grace_hours=24)
    assert result.success
    metadata = {event.asset_key.path[-1]: event.materialization.metadata["observation"].value for event in result.get_asset_materialization_events()}
    assert metadata == {"tmdb_movies": "observe", "tmdb_dead_letter": "observe"}
    assert Lake(on_time.lake_dir).partitions("tmdb_movies") == [yesterday]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--from", BEFORE, "--to", AFTER, "--select", DAILY_SELECTION, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_a_backfill_keeps_observed_days_and_fills_past_days_only_on_refetch(sample_run: SampleRun, tmp_path: Path, child_env: dict[str, str]):
    # The sample run's lake and warehouse hold DAY; the days before and after it have nothing.
    copy_run(sample_run, tmp_path)
    lake = Lake(Path(child_env["MOVIES_LAKE_DIR"]))
    build_file = Path(child_env["MOVIES_BUILD_DUCKDB_PATH"])
    before = day_files(lake, DAY)
    with duckdb.connect(str(build_file)) as conn:
        conn.execute("DELETE FROM gold.fact_movie_daily")

    done = run_cli(child_env)
    assert day_files(lake, DAY) == before
    assert lake.partitions("tmdb_movies") == lake.partitions("tmdb_dead_letter") == [DAY]
    assert [(day, rows) for day, rows, _, _ in fact_days(build_file)] == [(DAY_ID, 300)]
    for day in (BEFORE, AFTER):
        assert (
            f"  no TMDB observation for {day}: TMDB serves only current values; run with refetch to store today's values as that day's"
        ) in done.stdout.splitlines()
    assert f"  TMDB observation of {DAY} kept: nothing fetched, silver and gold re-derived from the lake" in done.stdout
    assert done.stdout.splitlines()[-1].startswith(f"no TMDB observation, nothing written: {BEFORE}, {AFTER};")

    first_day = datetime.now(UTC).date()
    done = run_cli(child_env, "--refetch")
    today = {first_day, datetime.now(UTC).date()}
    assert lake.partitions("tmdb_movies") == [BEFORE, DAY, AFTER]
    assert f"  late TMDB observation: {BEFORE} holds today's values" in done.stdout
    by_day = {day: (rows, late, observed) for day, rows, late, observed in fact_days(build_file)}
    for day in (BEFORE, AFTER):
        rows, late, (observed,) = by_day[int(day.replace("-", ""))]
        assert rows == late == 300 and observed in today
