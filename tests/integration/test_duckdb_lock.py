"""A warehouse file held by another process: runs wait a bounded time, then fail clearly."""

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from dagster import get_dagster_logger, materialize

from conftest import REFETCH_RUN_CONFIG
from movie_assets.definitions import build_resources
from movie_assets.partitions import build_daily_partitions
from movie_assets.settings import Settings
from movie_assets.tmdb.assets import build_tmdb_assets
from movie_assets.transform.dbt_assets import build_dbt_assets
from movie_assets.transform.project import build_dbt_project
from movie_assets.warehouse.duckdb_resource import DuckDBLockedError, DuckDBWarehouseResource
from movie_assets.warehouse.lake import Lake

HOLDER = textwrap.dedent(
    """
    import select, sys, duckdb
    conn = duckdb.connect(sys.argv[1])
    conn.execute("CREATE TABLE IF NOT EXISTS held (x INTEGER)")
    print("locked", flush=True)
    select.select([sys.stdin], [], [], float(sys.argv[2]))
    conn.close()
    """
)


def hold_lock(path: Path, at_most: float) -> subprocess.Popen:
    """A second process with a write connection on ``path`` until its stdin is closed, or for
    ``at_most`` seconds.

    The test releases it (or kills it), so how long a loaded machine takes never decides
    whether the file is still locked; ``at_most`` only turns a resource that ignores its
    timeout into a failed test instead of a hung one.
    """
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(at_most)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_locked_file_fails_with_file_and_remedy(tmp_path: Path):
    path = tmp_path / "warehouse.duckdb"
    holder = hold_lock(path, at_most=1.5 + 15)
    try:
        resource = DuckDBWarehouseResource(database=str(path), lock_timeout_seconds=1.5, poll_seconds=0.2)
        started = time.monotonic()
        with pytest.raises(DuckDBLockedError) as raised:
            with resource.get_connection():
                pass
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    # Never less than the timeout, by the resource's own clock and by ours. Above it, only
    # a generous bound: one more poll and attempt, however late the scheduler runs them,
    # but not a wait that ignores the timeout.
    assert raised.value.metadata["waited_seconds"].value >= 1.5
    assert 1.5 <= waited < 1.5 + 15
    message = raised.value.description
    assert str(path) in message
    assert f"PID {holder.pid}" in message and f"kill {holder.pid}" in message
    assert "conn.close()" in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


class ReleaseWhenWaiting(logging.Handler):
    """Releases ``holder``'s lock when the resource announces that it is waiting for it, so the
    resource surely met the lock, whatever the scheduler did meanwhile."""

    def __init__(self, holder: subprocess.Popen) -> None:
        super().__init__(logging.WARNING)
        self.holder = holder
        self.announcements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.announcements.append(record.getMessage())
        self.holder.stdin.close()


def test_waits_for_a_lock_released_within_the_timeout(tmp_path: Path):
    path = tmp_path / "warehouse.duckdb"
    holder = hold_lock(path, at_most=60)
    release = ReleaseWhenWaiting(holder)
    get_dagster_logger().addHandler(release)
    try:
        resource = DuckDBWarehouseResource(database=str(path), lock_timeout_seconds=30, poll_seconds=0.2)
        with resource.get_connection() as conn:
            assert conn.execute("SELECT count(*) FROM held").fetchone() == (0,)
    finally:
        get_dagster_logger().removeHandler(release)
        holder.kill()
        holder.wait()
    assert release.announcements == [f"{path} is locked by another process; waiting up to 30 s for it to be released"]


def test_other_duckdb_errors_are_not_retried(tmp_path: Path):
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a DuckDB file\n")
    resource = DuckDBWarehouseResource(database=str(not_a_database), lock_timeout_seconds=30)
    started = time.monotonic()
    with pytest.raises(duckdb.Error):
        resource.connect()
    # Retrying would wait out the 30 s timeout; one failed open takes milliseconds, or
    # seconds on a loaded machine.
    assert time.monotonic() - started < 15


def test_ingestion_takes_no_duckdb_lock(settings: Settings):
    """The TMDB fetch lands in the lake: a process holding the build file (and a reader on
    the published path) cannot make it wait or fail."""
    settings = settings.model_copy(update={"duckdb_lock_timeout": 1.0})
    settings.build_duckdb_path.parent.mkdir(parents=True)
    holder = hold_lock(settings.build_duckdb_path, at_most=120)
    try:
        result = materialize(
            build_tmdb_assets(build_daily_partitions(settings), settings.observation_grace_hours),
            resources=build_resources(settings),
            partition_key="2026-11-20",
            run_config=REFETCH_RUN_CONFIG,
            raise_on_error=False,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.success
    assert Lake(settings.lake_dir).partitions("tmdb_movies") == ["2026-11-20"]


def test_dbt_step_on_a_locked_warehouse_fails_before_starting_dbt(settings: Settings, dbt_manifest: Path):
    settings = settings.model_copy(update={"duckdb_lock_timeout": 1.0})
    # Only the unpartitioned models: they need no partition key, and their step meets the lock
    # before it starts dbt, so no dbt build runs.
    movie_dbt_models, *_ = build_dbt_assets(build_dbt_project(settings), build_daily_partitions(settings))
    settings.build_duckdb_path.parent.mkdir(parents=True)
    holder = hold_lock(settings.build_duckdb_path, at_most=120)
    try:
        result = materialize([movie_dbt_models], resources=build_resources(settings), raise_on_error=False)
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert f"The DuckDB warehouse {settings.build_duckdb_path} is locked" in failure.step_failure_data.error.message
    assert failure.step_failure_data.user_failure_data.metadata["waited_seconds"].value >= 1
