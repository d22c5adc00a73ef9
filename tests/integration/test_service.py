"""The service (``make up`` / ``make down`` / ``make status``) with real processes: a local
PostgreSQL cluster, the code server, the Dagster webserver and daemon and the dashboard under
supervisord, on free ports with temporary data paths; runs submitted through its GraphQL API
and through ``make run``. One service for the whole file (it takes a while to start).

Most runs materialize the day's TMDB fetch (:data:`FETCH`, a step that writes the lake and
carries the warehouse writers' tag like every job): the queue, the retries and the restarts
are the same for any run, and a whole-graph run takes a minute or more on a loaded machine.
One run builds the whole graph through to the published snapshot, the readers' path. The
provider sensor sees the real deliveries before any TMDB day has landed, so it records them
(a cursor) and leaves them to the daily runs, which load them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from itertools import combinations
from pathlib import Path

import duckdb
import psycopg
import pytest
import requests
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster_graphql import DagsterGraphQLClient

from conftest import DAY, REFETCH_RUN_CONFIG
from movie_assets.automation.jobs import DAILY_REFRESH
from movie_assets.automation.run_summary import lake_counts
from movie_assets.automation.service import LOCATION_NAME, PROGRAMS, Service
from movie_assets.run_tags import WRITES_WAREHOUSE_TAGS
from movie_assets.settings import REPO_ROOT, Settings
from movie_assets.warehouse.lake import Lake
from support.ports import free_port

DAY_BEFORE = "2026-11-19"
RUN_TIMEOUT_SECONDS = 900
#: The TMDB fetch step: its two bronze assets, written together.
FETCH = [["bronze", "tmdb_movies"], ["bronze", "tmdb_dead_letter"]]

INSTIGATORS_QUERY = """
query ($selector: RepositorySelector!) {
  schedulesOrError(repositorySelector: $selector) {
    ... on Schedules { results { name scheduleState { status } } }
  }
  sensorsOrError(repositorySelector: $selector) {
    ... on Sensors { results { name sensorState { status typeSpecificData { ... on SensorData { lastCursor } } } } }
  }
}
"""


class RunningService:
    """The service under test: its environment, settings, and helpers to reach it."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root = root
        self.env = env
        values = {key: value for key, value in env.items() if key.startswith(("MOVIES_", "TMDB_"))}
        self.settings = Settings(_env_file=None, **values)
        self.service = Service(self.settings)

    def make(self, target: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "--no-print-directory", target], cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)

    def pids(self) -> dict[str, int]:
        """Program → PID of every program supervisorctl lists as RUNNING."""
        listing = self.service.supervisorctl("status").stdout
        running = {}
        for line in listing.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "RUNNING":
                running[parts[0]] = int(parts[3].rstrip(","))
        return running

    def client(self) -> DagsterGraphQLClient:
        return DagsterGraphQLClient("127.0.0.1", port_number=self.settings.webserver_port)

    def submit(self, partition: str, selection: list[list[str]] | None = FETCH) -> str:
        """Submit ``daily_refresh`` for ``partition``: the assets ``selection``, or the whole
        graph when None."""
        # The test days are past days: they are fetched as refetches (marked late).
        return self.client().submit_job_execution(
            DAILY_REFRESH,
            repository_location_name=LOCATION_NAME,
            run_config=REFETCH_RUN_CONFIG,
            tags={"dagster/partition": partition},
            asset_selection=selection,
        )

    def instance(self) -> DagsterInstance:
        os.environ["MOVIES_DAGSTER_PG_URL"] = self.service.postgres_url()
        return DagsterInstance.from_config(str(self.service.dagster_home))

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(f"{self.service.webserver_url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
        response.raise_for_status()
        return response.json()["data"]

    def instigators(self) -> tuple[dict[str, str], dict[str, tuple[str, str | None]]]:
        """``({schedule: status}, {sensor: (status, cursor)})`` as the webserver reports them."""
        data = self.graphql(INSTIGATORS_QUERY, {"selector": {"repositoryLocationName": LOCATION_NAME, "repositoryName": "__repository__"}})
        schedules = {item["name"]: item["scheduleState"]["status"] for item in data["schedulesOrError"]["results"]}
        sensors = {
            item["name"]: (item["sensorState"]["status"], (item["sensorState"]["typeSpecificData"] or {}).get("lastCursor"))
            for item in data["sensorsOrError"]["results"]
        }
        return schedules, sensors

    def wait_finished(self, run_ids: list[str], timeout: float = RUN_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        with self.instance() as instance:
            while time.monotonic() < deadline:
                if all(instance.get_run_by_id(run_id).is_finished for run_id in run_ids):
                    return
                time.sleep(2)
        pytest.fail(f"runs {run_ids} not finished after {timeout} s")

    def wait_idle(self, timeout: float = RUN_TIMEOUT_SECONDS) -> None:
        """Wait until no run is queued or in progress (e.g. the provider sensor's first run)."""
        deadline = time.monotonic() + timeout
        active = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
        with self.instance() as instance:
            while time.monotonic() < deadline:
                if not instance.get_run_records(filters=RunsFilter(statuses=active)):
                    return
                time.sleep(2)
        pytest.fail(f"the service still has runs in flight after {timeout} s")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, sample_data: Path, dbt_manifest: Path):
    root = tmp_path_factory.mktemp("service")
    inputs = root / "inputs"
    inputs.mkdir()
    for folder in ("tmdb", "ids", "providers"):
        (inputs / folder).symlink_to(sample_data / folder)
    # PostgreSQL runs as the postgres user, which cannot enter pytest's private temp folders.
    pg_dir = Path(tempfile.mkdtemp(prefix="movies-pg-"))
    pg_dir.chmod(0o711)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TMDB_", "MOVIES_", "DAGSTER_"))}
    env.update(
        MOVIES_DUCKDB_PATH=str(root / "warehouse.duckdb"),
        MOVIES_LAKE_DIR=str(root / "lake"),
        MOVIES_BUILD_DUCKDB_PATH=str(root / "build" / "warehouse.duckdb"),
        MOVIES_SERVING_DIR=str(root / "serving"),
        MOVIES_REPORTS_DIR=str(root / "reports"),
        MOVIES_INPUT_DIR=str(inputs),
        MOVIES_SERVICE_DIR=str(root / "service"),
        MOVIES_LOG_DIR=str(root / "logs"),
        MOVIES_PG_DIR=str(pg_dir / "cluster"),
        MOVIES_PG_PORT=str(free_port()),
        MOVIES_WEBSERVER_PORT=str(free_port()),
        MOVIES_CODE_SERVER_PORT=str(free_port()),
        MOVIES_DASHBOARD_PORT=str(free_port()),
        TMDB_SOURCE="snapshot",
        TMDB_RATE_LIMIT="500",
    )
    running = RunningService(root, env)
    started = running.make("up")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield running
    finally:
        pids = running.pids()
        stopped = running.make("down")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        shutil.rmtree(pg_dir, ignore_errors=True)
        os.environ.pop("MOVIES_DAGSTER_PG_URL", None)
    assert not [pid for pid in pids.values() if _alive(pid)], "make down left processes running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone too.
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def test_up_runs_every_process_and_loads_the_code(service: RunningService) -> None:
    assert sorted(service.pids()) == sorted(PROGRAMS)
    assert service.service.state_file.exists()
    schedules, sensors = service.instigators()
    assert schedules["daily_refresh_schedule"] == "RUNNING"
    assert sensors["provider_files_sensor"][0] == "RUNNING"
    status = service.make("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert service.service.webserver_url in status.stdout
    assert requests.get(service.service.dashboard_url, timeout=30).status_code == 200


def test_runs_submitted_at_once_never_overlap(service: RunningService) -> None:
    # The same partition twice, then the day before through the whole graph to publication.
    run_ids = [service.submit(DAY), service.submit(DAY), service.submit(DAY_BEFORE, selection=None)]
    service.wait_finished(run_ids)
    with service.instance() as instance:
        records = {run_id: instance.get_run_record_by_id(run_id) for run_id in run_ids}
        assert {record.dagster_run.status for record in records.values()} == {DagsterRunStatus.SUCCESS}
        # Every writing run of the service had the warehouse alone.
        writers = instance.get_run_records(filters=RunsFilter(tags=WRITES_WAREHOUSE_TAGS, statuses=[DagsterRunStatus.SUCCESS]))
        spans = sorted((record.start_time, record.end_time) for record in writers)
        for (start_a, end_a), (start_b, end_b) in combinations(spans, 2):
            assert end_a <= start_b or end_b <= start_a, f"runs overlapped: {spans}"
        assert len(spans) >= 3
        assert max(records.values(), key=lambda record: record.end_time).dagster_run.run_id == run_ids[-1]
    # The readers' path names the snapshot the last run published.
    with duckdb.connect(service.env["MOVIES_DUCKDB_PATH"], read_only=True) as conn:
        published = conn.execute("SELECT run_id, partition_date::VARCHAR FROM meta.publication ORDER BY published_at DESC LIMIT 1").fetchone()
        fact_rows = conn.execute("SELECT count(*) FROM gold.fact_movie_daily").fetchone()[0]
    assert published == (run_ids[-1], DAY_BEFORE)
    assert Path(service.env["MOVIES_DUCKDB_PATH"]).resolve().name.endswith(f"-{run_ids[-1][:8]}.duckdb")
    assert fact_rows > 0
    # make up's own cluster serves the same publication to BI tools (serving/postgres_publication).
    with psycopg.connect(service.service.environment()["MOVIES_SERVING_PG_URL"]) as conn:
        served = conn.execute("SELECT run_id FROM meta.publication").fetchall()
        served_fact_rows = conn.execute("SELECT count(*) FROM gold.fact_movie_daily").fetchone()[0]
    assert served == [(run_ids[-1],)]
    assert served_fact_rows == fact_rows


def test_make_run_queues_behind_a_service_run(service: RunningService) -> None:
    service.wait_idle()
    # Two runs ahead, so one is still in flight once the command has started and submits.
    ahead = [service.submit(DAY_BEFORE), service.submit(DAY_BEFORE)]
    done = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "movie_assets.cli", "--partition", DAY, "--select", "bronze/tmdb_movies", "--refetch"],
        cwd=REPO_ROOT,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "waits in the service's queue behind run " in done.stdout, done.stdout
    assert done.stdout.split("behind run ", 1)[1].split()[0] in ahead
    assert ": succeeded" in done.stdout
    mine = done.stdout.split("\nrun ", 1)[1].split()[0]
    with service.instance() as instance:
        assert instance.get_run_by_id(mine).status == DagsterRunStatus.SUCCESS
        assert instance.get_run_by_id(mine).tags["movies/writes"] == "warehouse"


def test_a_killed_daemon_is_restarted_and_queued_runs_start(service: RunningService) -> None:
    service.wait_idle()
    before = service.pids()["daemon"]
    os.kill(before, signal.SIGKILL)
    run_id = service.submit(DAY)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and service.pids().get("daemon") in (None, before):
        time.sleep(0.5)
    assert service.pids().get("daemon") not in (None, before)
    service.wait_finished([run_id])
    with service.instance() as instance:
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS


def _lake_state(service: RunningService) -> tuple:
    """``((bronze tables, rows), {dead-letter reason: count})`` of the lake for :data:`DAY`."""
    return lake_counts(Lake(service.settings.lake_dir), DAY)


def test_a_killed_run_worker_fails_the_run_and_its_retry_succeeds(service: RunningService) -> None:
    service.wait_idle()
    clean = _lake_state(service)
    run_id = service.submit(DAY)
    worker = None
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    with service.instance() as instance:
        # Kill the run's worker once it is in a step (its pid is in the run's engine events).
        while worker is None and time.monotonic() < deadline:
            logs = instance.all_logs(run_id)
            started = [entry for entry in logs if entry.dagster_event and entry.dagster_event.event_type_value == "STEP_START"]
            pids = [entry.message.split("(pid: ")[1].split(")")[0] for entry in logs if "Executing steps in process (pid: " in (entry.message or "")]
            if started and pids:
                worker = int(pids[0])
            time.sleep(0.5)
        assert worker is not None, "the run never started a step"
        os.kill(worker, signal.SIGKILL)
        killed_at = time.time()
        while instance.get_run_by_id(run_id).status != DagsterRunStatus.FAILURE and time.time() - killed_at < 120:
            time.sleep(0.2)
        failed_after = time.time() - killed_at
        retry_id = None
        while retry_id is None and time.time() - killed_at < 180:
            retry_id = instance.get_run_by_id(run_id).tags.get("dagster/auto_retry_run_id")
            time.sleep(0.5)
        assert retry_id, f"no retry of the crashed run (failed after {failed_after:.1f} s)"
        retried_after = instance.get_run_record_by_id(retry_id).create_timestamp.timestamp() - killed_at
    print(f"crash bound: run marked failed {failed_after:.1f} s and its retry created {retried_after:.1f} s after kill -9")
    assert failed_after < 30
    service.wait_finished([retry_id])
    with service.instance() as instance:
        assert instance.get_run_by_id(retry_id).status == DagsterRunStatus.SUCCESS
    assert _lake_state(service) == clean


def test_down_and_up_keep_history_schedules_and_cursor(service: RunningService) -> None:
    service.wait_idle()
    with service.instance() as instance:
        runs_before = {record.dagster_run.run_id for record in instance.get_run_records()}
    schedules_before, sensors_before = service.instigators()
    assert sensors_before["provider_files_sensor"][1], "the provider sensor has not ticked yet"
    old_pids = service.pids()
    stopped = service.make("down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not [pid for pid in old_pids.values() if _alive(pid)]
    assert not service.service.state_file.exists()
    started = service.make("up")
    assert started.returncode == 0, started.stdout + started.stderr
    with service.instance() as instance:
        assert runs_before <= {record.dagster_run.run_id for record in instance.get_run_records()}
    schedules_after, sensors_after = service.instigators()
    assert schedules_after == schedules_before
    assert {name: status for name, (status, _) in sensors_after.items()} == {name: status for name, (status, _) in sensors_before.items()}
    for name, (_, cursor) in sensors_before.items():
        if name in RUN_STATUS_SENSORS:
            # A run-status sensor may still read events of runs that ended before ``down``:
            # its cursor moves on after ``up``, it must never start over.
            assert _record_id(sensors_after[name][1]) >= _record_id(cursor), name
        else:
            assert sensors_after[name][1] == cursor, name


#: Sensors whose cursor is a position in the event log (``run_status_sensor``/``run_failure_sensor``).
RUN_STATUS_SENSORS = ("run_failure_alert_sensor",)


def _record_id(cursor: str | None) -> int:
    """The event-log position in a run-status sensor's cursor (-1 before its first event)."""
    return json.loads(cursor)["record_id"] if cursor else -1
