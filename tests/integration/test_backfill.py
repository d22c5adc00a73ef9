"""A three-day backfill from the CLI (`python -m movie_assets.cli --from --to`): one run per
day, oldest first, each tagged as the backfill and followed by its summary; a failed day is
reported and the later days still run.

The days are past days, fetched anyway (``--refetch``; test_observation covers what a
backfill does without it). The selection is the TMDB fetch alone: what the backfill itself decides (which runs, which
partition each gets, what happens after a failure) does not depend on the models downstream,
whose per-day rows are tested on two days in test_star_schema.
"""

import re
import subprocess
import sys
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus

from movie_assets.cli import BACKFILL_TAG
from movie_assets.settings import REPO_ROOT
from movie_assets.warehouse.lake import Lake

DAYS = ["2026-11-18", "2026-11-19", "2026-11-20"]
FAILING_DAY = DAYS[1]
SUMMARY_START = re.compile(r"^run (\S+) for (\S+): (succeeded|FAILED)")


def summaries(stdout: str) -> list[list[str]]:
    """The per-run summaries of the CLI's output, each a list of lines."""
    blocks: list[list[str]] = []
    for line in stdout.splitlines():
        if SUMMARY_START.match(line):
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    return blocks


def test_three_day_backfill_runs_each_day_and_reports_the_failed_one(tmp_path: Path, child_env: dict[str, str]):
    lake = Lake(Path(child_env["MOVIES_LAKE_DIR"]))
    # A file where the middle day's partition folder belongs, so that day's landing fails.
    blocker = lake.partition_file("tmdb_movies", FAILING_DAY).parent
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")

    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--from", DAYS[0], "--to", DAYS[-1], "--select", "bronze/tmdb_movies", "--refetch"],
        cwd=REPO_ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-3000:]
    assert f"failed partitions: {FAILING_DAY};" in done.stderr

    blocks = summaries(done.stdout)
    outcomes = [SUMMARY_START.match(block[0]).group(2, 3) for block in blocks]
    assert outcomes == [(DAYS[0], "succeeded"), (FAILING_DAY, "FAILED"), (DAYS[2], "succeeded")]
    for block in (blocks[0], blocks[2]):
        # A short summary instead of the event log: the checks' tally and where everything is.
        assert len(block) < 60
        assert re.search(r"^  checks: [1-9]\d* passed, 0 failed$", "\n".join(block), re.M)
        assert any(line.strip().startswith("lake (bronze)") and line.split()[-1] == str(lake.root) for line in block)
        log = next(line for line in block if line.strip().startswith("full log")).split()[-1]
        assert Path(log).read_text().strip()
    assert any(line.strip().startswith("step failed:") for line in blocks[1])

    blocker.unlink()
    with lake.connect_bronze() as conn:
        per_day = conn.execute(
            "SELECT strftime(partition_date, '%Y-%m-%d'), count(*), count(DISTINCT movie_id) FROM bronze.tmdb_movies GROUP BY ALL ORDER BY 1"
        ).fetchall()
    # EXPECTED.md: 300 of the list's valid ids are in the snapshot.
    assert per_day == [(DAYS[0], 300, 300), (DAYS[2], 300, 300)]

    with DagsterInstance.from_config(child_env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        assert {run.tags["dagster/partition"]: run.status for run in runs} == {
            DAYS[0]: DagsterRunStatus.SUCCESS,
            FAILING_DAY: DagsterRunStatus.FAILURE,
            DAYS[2]: DagsterRunStatus.SUCCESS,
        }
        assert len(runs) == len(DAYS)
        assert {run.tags[BACKFILL_TAG] for run in runs} == {f"{DAYS[0]}...{DAYS[-1]}"}


def test_backfill_rejects_a_reversed_range(child_env: dict[str, str]):
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--from", DAYS[-1], "--to", DAYS[0]],
        cwd=REPO_ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"--from {DAYS[-1]} is after --to {DAYS[0]}" in done.stderr
    assert not Path(child_env["MOVIES_DUCKDB_PATH"]).exists()


def test_backfill_rejects_days_outside_the_partitions(child_env: dict[str, str]):
    env = {**child_env, "MOVIES_PARTITION_START": "2026-11-19"}
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--from", DAYS[0], "--to", DAYS[-1]],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert f"error: {DAYS[0]} outside the daily partitions 2026-11-19 (MOVIES_PARTITION_START)" in done.stderr
    # Nothing was run: no warehouse and no run in the Dagster instance.
    assert not Path(env["MOVIES_DUCKDB_PATH"]).exists()
    assert [path.name for path in Path(env["DAGSTER_HOME"]).iterdir()] == ["dagster.yaml"]
