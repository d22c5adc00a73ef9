"""Shared fixtures. The real sample data is read in place; expensive things are built once
per session: the dbt manifest, and ``sample_run``, the whole graph for one day on the sample
data (tests that change a warehouse work on a copy of it, see :func:`copy_run`).

``make test`` runs two pytest-xdist workers (one a core, each test file on one worker); the
session-wide builds are made once for both, under a file lock in the folder they share.

Settings are made explicitly (:func:`make_settings`) rather than read from the environment,
so a developer's ``.env`` or shell variables cannot leak into a test.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import AssetCheckEvaluation, DagsterEvent, DagsterEventType, DagsterInstance, Definitions
from filelock import FileLock

from movie_assets.definitions import build_definitions
from movie_assets.settings import DEFAULT_SAMPLE_INPUT_DIR, REPO_ROOT, Settings
from movie_assets.transform.project import build_dbt_project, prepare_manifest
from support.postgres import PostgresServer, running_postgres

SAMPLE_DATA = DEFAULT_SAMPLE_INPUT_DIR
#: The day of the session's sample run.
DAY = "2026-11-20"
#: Run config of a fetch storing today's TMDB values under a past day such as :data:`DAY`.
REFETCH_RUN_CONFIG = {"ops": {"tmdb_movies": {"config": {"refetch": True}}}}


def make_settings(root: Path, **overrides) -> Settings:
    """Settings for an offline run into ``root``: lake ``root/lake``, build file
    ``root/build/warehouse.duckdb``, snapshots ``root/serving``, readers' path
    ``root/warehouse.duckdb``, reports ``root/reports``; over the sample data, snapshot source
    at 500 requests/s (the loopback server keeps up; the default 40 would only add waiting).
    ``overrides`` are field names."""
    values = dict(
        duckdb_path=root / "warehouse.duckdb",
        lake_dir=root / "lake",
        build_duckdb_path=root / "build" / "warehouse.duckdb",
        serving_dir=root / "serving",
        reports_dir=root / "reports",
        input_dir=SAMPLE_DATA,
        tmdb_source="snapshot",
        tmdb_rate_limit=500.0,
        tmdb_read_access_token=None,
        tmdb_api_key=None,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def sample_data() -> Path:
    if not (SAMPLE_DATA / "tmdb" / "movies.jsonl.gz").exists():
        pytest.fail(f"sample data not found at {SAMPLE_DATA}: clone ../shared beside the repo")
    return SAMPLE_DATA


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A folder every xdist worker of this session sees (the session's temp root without xdist)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if hasattr(request.config, "workerinput") else root


@pytest.fixture(scope="session")
def dbt_manifest(sample_data: Path, shared_dir: Path) -> Path:
    """The dbt manifest, parsed once for the session if any dbt file changed since."""
    settings = make_settings(REPO_ROOT / "data")
    project = build_dbt_project(settings)
    with FileLock(str(shared_dir / "dbt_manifest.lock")):
        prepare_manifest(project, settings)
    return project.manifest_path


@pytest.fixture
def settings(tmp_path: Path, sample_data: Path) -> Settings:
    """Settings for an offline run into this test's ``tmp_path``."""
    return make_settings(tmp_path)


@pytest.fixture
def defs(settings: Settings, dbt_manifest: Path) -> Definitions:
    """The product's definitions for :func:`settings`."""
    return build_definitions(settings)


@dataclass(frozen=True)
class RecordedRun:
    """A finished run read back from the Dagster instance at ``home``, with the part of
    ``ExecuteInProcessResult``'s interface the tests use."""

    home: Path
    run_id: str

    def _events(self, kind: DagsterEventType) -> list[DagsterEvent]:
        with DagsterInstance.from_config(str(self.home)) as instance:
            return [entry.dagster_event for entry in instance.all_logs(self.run_id, of_type=kind)]

    def get_asset_check_evaluations(self) -> list[AssetCheckEvaluation]:
        return [event.event_specific_data for event in self._events(DagsterEventType.ASSET_CHECK_EVALUATION)]

    def get_asset_materialization_events(self) -> list[DagsterEvent]:
        return self._events(DagsterEventType.ASSET_MATERIALIZATION)

    def get_asset_observation_events(self) -> list[DagsterEvent]:
        return self._events(DagsterEventType.ASSET_OBSERVATION)


@dataclass(frozen=True)
class SampleRun:
    """The whole graph materialized once for :data:`DAY` into ``root``.

    Attributes:
        root: folder holding the lake, the build file, the published snapshot (the readers'
            path ``warehouse.duckdb``) and ``reports/``; read it, never write it.
        settings: the settings the run used.
        result: the run as recorded (materializations, check evaluations, run id).
    """

    root: Path
    settings: Settings
    result: RecordedRun


@pytest.fixture(scope="session")
def sample_run(shared_dir: Path, sample_data: Path, dbt_manifest: Path) -> SampleRun:
    """``daily_refresh`` for :data:`DAY` on the sample data, built by the first worker that
    needs it and shared by every test that only reads."""
    root, home, done = shared_dir / "sample_run", shared_dir / "sample_run_home", shared_dir / "sample_run.json"
    settings = make_settings(root)
    with FileLock(str(shared_dir / "sample_run.lock")):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)
            root.mkdir(parents=True)
            home.mkdir(parents=True)
            job = build_definitions(settings).resolve_job_def("daily_refresh")
            with DagsterInstance.from_config(str(home)) as instance:
                # DAY is a past day: the fetch is a refetch, marked observed_late downstream.
                result = job.execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False, run_config=REFETCH_RUN_CONFIG)
            assert result.success, "the sample run failed; see the step failures above"
            done.write_text(json.dumps({"run_id": result.run_id}))
    return SampleRun(root, settings, RecordedRun(home, json.loads(done.read_text())["run_id"]))


def copy_run(run: SampleRun, destination: Path) -> Settings:
    """Copy the sample run's lake, build file, snapshots and reports into ``destination``;
    settings for the copy. The readers' link is relative, so it names the copied snapshot."""
    shutil.copytree(run.root, destination, dirs_exist_ok=True, symlinks=True)
    return make_settings(destination)


@pytest.fixture
def child_env(tmp_path: Path, sample_data: Path) -> dict[str, str]:
    """Environment for a child process (``dagster`` CLI, ``movie_assets.cli``, a notebook
    kernel) running offline into ``tmp_path``: its own ``DAGSTER_HOME`` with the project's
    instance config, warehouse and reports; none of the caller's TMDB/MOVIES/DAGSTER settings."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "scripts" / "dagster.yaml", home / "dagster.yaml")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TMDB_", "MOVIES_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(home),
        MOVIES_DUCKDB_PATH=str(tmp_path / "warehouse.duckdb"),
        MOVIES_LAKE_DIR=str(tmp_path / "lake"),
        MOVIES_BUILD_DUCKDB_PATH=str(tmp_path / "build" / "warehouse.duckdb"),
        MOVIES_SERVING_DIR=str(tmp_path / "serving"),
        MOVIES_REPORTS_DIR=str(tmp_path / "reports"),
        MOVIES_INPUT_DIR=str(sample_data),
        TMDB_SOURCE="snapshot",
        TMDB_RATE_LIMIT="500",
    )
    return env


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the session (one per xdist worker), see :func:`support.postgres.running_postgres`."""
    with running_postgres() as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the files so that one needing the session's sample run comes first and the files
    that do not need it follow: with two workers, one builds the sample run while the other
    works through tests that never wait for it."""
    needs_run = {item.path for item in items if "sample_run" in item.fixturenames}
    first = min((item.path for item in items if item.path in needs_run), default=None)
    items.sort(key=lambda item: 0 if item.path == first else 1 if item.path not in needs_run else 2)
