"""``make run`` without the service (``python -m movie_assets.cli`` in child processes, temporary
data paths, the snapshot TMDB source): two at once take turns on the build file and both
publish; a failed run prints a few lines, its traceback only in the run's log file."""

import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from dagster import DagsterInstance, DagsterRunStatus

from conftest import DAY
from movie_assets.automation.run_lock import holder_path
from movie_assets.settings import REPO_ROOT
from movie_assets.warehouse.lake import Lake

# DAY is a past day: the first run stores today's values for it (marked late), the second
# finds the day observed and re-derives it from the lake.
RUN = [sys.executable, "-m", "movie_assets.cli", "--partition", DAY, "--refetch"]
SUMMARY_START = re.compile(r"^run (\S+) for (\S+): (succeeded|FAILED)", re.M)
PUBLISHED = re.compile(r"^  published for readers: (\S+)$", re.M)


def start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(RUN, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_holder(build_file: Path) -> str:
    try:
        return holder_path(build_file).read_text()
    except FileNotFoundError:
        return ""


def test_two_make_runs_at_once_take_turns_and_both_publish(child_env: dict[str, str]):
    build_file = Path(child_env["MOVIES_BUILD_DUCKDB_PATH"])
    first = start(child_env)
    # The second starts once the first's run has started: it has to meet the lock.
    deadline = time.monotonic() + 300
    while '"run_id": "' not in read_holder(build_file) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    second = start(child_env)
    first_out, first_err = first.communicate(timeout=1800)
    second_out, second_err = second.communicate(timeout=1800)

    assert first.returncode == 0, first_out[-3000:] + first_err[-3000:]
    assert second.returncode == 0, second_out[-3000:] + second_err[-3000:]
    for output in (first_out, first_err, second_out, second_err):
        assert "Could not set lock" not in output and "Traceback" not in output
    first_run = SUMMARY_START.search(first_out).group(1)
    second_run = SUMMARY_START.search(second_out).group(1)
    waiting = [line for line in second_out.splitlines() if line.startswith("waiting for ")]
    assert len(waiting) == 1
    assert waiting[0].startswith(f"waiting for run {first_run} for {DAY} (make run, PID {first.pid}, since ")

    with DagsterInstance.from_config(child_env["DAGSTER_HOME"]) as instance:
        records = {record.dagster_run.run_id: record for record in instance.get_run_records()}
    assert {run_id: record.dagster_run.status for run_id, record in records.items()} == {
        first_run: DagsterRunStatus.SUCCESS,
        second_run: DagsterRunStatus.SUCCESS,
    }
    assert records[second_run].start_time >= records[first_run].end_time

    # Nothing published is lost: both snapshots are kept, the readers' path names the second's,
    # and it is complete.
    serving = Path(child_env["MOVIES_SERVING_DIR"])
    first_snapshot, second_snapshot = PUBLISHED.search(first_out).group(1), PUBLISHED.search(second_out).group(1)
    assert first_snapshot != second_snapshot
    assert (serving / first_snapshot).is_file() and (serving / second_snapshot).is_file()
    readers = Path(child_env["MOVIES_DUCKDB_PATH"])
    assert readers.resolve() == (serving / second_snapshot).resolve()
    with duckdb.connect(str(readers), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone() == (300,)
        assert conn.execute("SELECT count(*) FROM gold.fact_movie_daily").fetchone()[0] > 0
    with Lake(Path(child_env["MOVIES_LAKE_DIR"])).connect_bronze() as conn:
        assert conn.execute("SELECT count(*) FROM bronze.tmdb_movies").fetchone() == (300,)


def test_failed_run_prints_a_few_lines_and_logs_the_traceback(child_env: dict[str, str]):
    lake = Lake(Path(child_env["MOVIES_LAKE_DIR"]))
    # A file where the day's partition folder belongs, so the day's landing fails.
    blocker = lake.partition_file("tmdb_movies", DAY).parent
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")

    done = subprocess.run([*RUN, "--select", "bronze/tmdb_movies"], cwd=REPO_ROOT, env=child_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "Traceback" not in output and 'File "' not in output
    assert len(output.splitlines()) < 30, output
    lines = done.stdout.splitlines()
    failed = lines.index("  step failed: tmdb_movies")
    error = [line for line in lines[failed + 1 :] if line.startswith("    ")]
    assert 1 <= len(error) <= 3
    assert str(blocker) in "\n".join(error)
    log = Path(next(line for line in lines if line.strip().startswith("full log")).split()[-1])
    assert log.parent == Path(child_env["DAGSTER_HOME"]) / "logs"
    text = log.read_text()
    assert "STEP_FAILURE" in text and 'File "' in text and str(blocker) in text
