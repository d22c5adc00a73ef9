"""Shared fixtures: a temp warehouse per test, the real sample data read in place."""

import os
import shutil
from pathlib import Path

import pytest

from movie_assets.settings import DEFAULT_SAMPLE_INPUT_DIR, REPO_ROOT, Settings, load_settings

SAMPLE_DATA = DEFAULT_SAMPLE_INPUT_DIR


@pytest.fixture(scope="session")
def sample_data() -> Path:
    if not (SAMPLE_DATA / "tmdb" / "movies.jsonl.gz").exists():
        pytest.fail(f"sample data not found at {SAMPLE_DATA}: clone ../shared beside the repo")
    return SAMPLE_DATA


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_data: Path) -> Settings:
    """Settings for an offline run into ``tmp_path`` (a developer's .env cannot leak in:
    variables set here, even empty, win over .env)."""
    monkeypatch.setenv("MOVIES_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("MOVIES_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("MOVIES_INPUT_DIR", str(sample_data))
    monkeypatch.setenv("TMDB_API_KEY", "")
    monkeypatch.setenv("TMDB_READ_ACCESS_TOKEN", "")
    monkeypatch.setenv("TMDB_BASE_URL", "")
    # The loopback snapshot server keeps up; the default 40 requests/s would only add waiting.
    monkeypatch.setenv("TMDB_RATE_LIMIT", "500")
    return load_settings()


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
        MOVIES_REPORTS_DIR=str(tmp_path / "reports"),
        MOVIES_INPUT_DIR=str(sample_data),
        TMDB_API_KEY="",
        TMDB_READ_ACCESS_TOKEN="",
        TMDB_RATE_LIMIT="500",
    )
    return env
