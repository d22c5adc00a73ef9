"""Shared fixtures: a temp warehouse per test, the real sample data read in place."""

from pathlib import Path

import pytest

from movie_assets.settings import DEFAULT_SAMPLE_INPUT_DIR, Settings, load_settings

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
