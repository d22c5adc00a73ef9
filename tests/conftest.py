"""Shared fixtures. The real sample data is read in place; expensive things are built once
per session: the dbt manifest, and ``sample_run``, the whole graph for one day on the sample
data (tests that change a warehouse work on a copy of it, see :func:`copy_run`).

Settings are made explicitly (:func:`make_settings`) rather than read from the environment,
so a developer's ``.env`` or shell variables cannot leak into a test.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, Definitions, ExecuteInProcessResult

from movie_assets.definitions import build_definitions
from movie_assets.settings import DEFAULT_SAMPLE_INPUT_DIR, REPO_ROOT, Settings
from movie_assets.transform.project import build_dbt_project, prepare_manifest

SAMPLE_DATA = DEFAULT_SAMPLE_INPUT_DIR
#: The day of the session's sample run.
DAY = "2026-11-20"


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
def dbt_manifest(sample_data: Path) -> Path:
    """The dbt manifest, parsed once for the session if any dbt file changed since."""
    settings = make_settings(REPO_ROOT / "data")
    project = build_dbt_project(settings)
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
class SampleRun:
    """The whole graph materialized once for :data:`DAY` into ``root``.

    Attributes:
        root: folder holding the lake, the build file, the published snapshot (the readers'
            path ``warehouse.duckdb``) and ``reports/``; read it, never write it.
        settings: the settings the run used.
        result: the run's result (materializations, check evaluations).
    """

    root: Path
    settings: Settings
    result: ExecuteInProcessResult


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory, sample_data: Path, dbt_manifest: Path) -> SampleRun:
    """``daily_refresh`` for :data:`DAY` on the sample data, shared by every test that only reads."""
    root = tmp_path_factory.mktemp("sample_run")
    settings = make_settings(root)
    job = build_definitions(settings).resolve_job_def("daily_refresh")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False)
    assert result.success, "the sample run failed; see the step failures above"
    return SampleRun(root, settings, result)


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
