"""``TMDB_SOURCE=live`` without credentials stops both run commands before anything runs:
``python -m movie_assets.cli`` (``make run``) and ``dagster asset materialize -m
movie_assets.definitions``, each in a child process. (The run summary of a successful run is
tested with the backfill, test_backfill.)

Settings read ``.env`` in the repository root, and an empty variable counts as unset, so a
developer's ``.env`` with a TMDB key would supply it (and the child would call the real API).
The child therefore imports a copy of ``movie_assets`` whose repository root has no ``.env``.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance

from conftest import DAY
from movie_assets.settings import REPO_ROOT


@pytest.fixture
def live_without_credentials(tmp_path: Path, child_env: dict[str, str]) -> dict[str, str]:
    """``child_env`` for ``TMDB_SOURCE=live`` with empty credentials, importing a copy of the
    package from ``tmp_path/checkout`` (no ``.env`` there)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO_ROOT / "movie_assets", checkout / "movie_assets", ignore=shutil.ignore_patterns("__pycache__"))
    return {
        **child_env,
        "PYTHONPATH": str(checkout),
        "TMDB_SOURCE": "live",
        "TMDB_API_KEY": "",
        "TMDB_READ_ACCESS_TOKEN": "",
    }


def assert_nothing_ran(env: dict[str, str]) -> None:
    assert not Path(env["MOVIES_DUCKDB_PATH"]).exists()
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert instance.get_runs() == []


def test_run_command_refuses_live_source_without_credentials(live_without_credentials: dict[str, str], tmp_path: Path):
    env = live_without_credentials
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--partition", DAY],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-3000:]
    assert "TMDB_API_KEY" in done.stderr and "TMDB_READ_ACCESS_TOKEN" in done.stderr
    # It stopped at the configuration, before announcing a run: nothing was written at all.
    assert "materializing" not in done.stdout
    assert [path.name for path in Path(env["DAGSTER_HOME"]).iterdir()] == ["dagster.yaml"]
    assert_nothing_ran(env)


def test_dagster_materialize_refuses_live_source_without_credentials(live_without_credentials: dict[str, str], tmp_path: Path):
    env = live_without_credentials
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [
            str(dagster),
            "asset",
            "materialize",
            "-m",
            "movie_assets.definitions",
            "--select",
            "bronze/tmdb_movies,bronze/tmdb_dead_letter",
            "--partition",
            DAY,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "TMDB_API_KEY" in done.stdout + done.stderr
    assert_nothing_ran(env)
