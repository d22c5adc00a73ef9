"""A three-day backfill from the CLI (`python -m movie_assets.cli --from --to`): one run per day."""

import subprocess
import sys
from pathlib import Path

import duckdb
from dagster import DagsterInstance, DagsterRunStatus

from movie_assets.cli import BACKFILL_TAG
from movie_assets.settings import REPO_ROOT

DAYS = ["2026-11-18", "2026-11-19", "2026-11-20"]


def test_three_day_backfill_leaves_one_fact_row_per_movie_per_day(tmp_path: Path, child_env: dict[str, str]):
    env = child_env
    argv = [sys.executable, "-m", "movie_assets.cli", "--from", DAYS[0], "--to", DAYS[-1]]
    done = subprocess.run(
        [*argv, "--select", "*gold/fact_movie_daily"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert [line.split(":")[0] for line in done.stdout.splitlines() if " run " in line] == DAYS

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        per_day = conn.execute(
            """
            SELECT date_id, count(*), count(DISTINCT movie_id)
            FROM gold.fact_movie_daily GROUP BY date_id ORDER BY date_id
            """
        ).fetchall()
        # EXPECTED.md: 300 of the list's valid ids are in the snapshot.
        assert per_day == [(20261118, 300, 300), (20261119, 300, 300), (20261120, 300, 300)]
        bronze_days = conn.execute("SELECT count(DISTINCT partition_date) FROM bronze.tmdb_movies").fetchone()
        assert bronze_days == (3,)

    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        assert sorted(run.tags["dagster/partition"] for run in runs) == DAYS
        assert {run.tags[BACKFILL_TAG] for run in runs} == {f"{DAYS[0]}...{DAYS[-1]}"}
        assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}


def test_backfill_rejects_a_reversed_range(child_env: dict[str, str]):
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--from", DAYS[-1], "--to", DAYS[0]],
        cwd=REPO_ROOT, env=child_env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert f"--from {DAYS[-1]} is after --to {DAYS[0]}" in done.stderr
    assert not Path(child_env["MOVIES_DUCKDB_PATH"]).exists()


def test_backfill_rejects_days_outside_the_partitions(child_env: dict[str, str]):
    env = {**child_env, "MOVIES_PARTITION_START": "2026-11-19"}
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--from", DAYS[0], "--to", DAYS[-1]],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 2
    assert f"error: {DAYS[0]} outside the daily partitions 2026-11-19 (MOVIES_PARTITION_START)" in done.stderr
    # Nothing was run: no warehouse and no run in the Dagster instance.
    assert not Path(env["MOVIES_DUCKDB_PATH"]).exists()
    assert [path.name for path in Path(env["DAGSTER_HOME"]).iterdir()] == ["dagster.yaml"]
