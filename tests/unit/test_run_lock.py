"""One embedded run at a time (``movie_assets.automation.run_lock``): a second command waits for
a real holder process, naming it in one line, and refuses after its bound; runs executing in
the Dagster instance (a real SQLite instance) make it wait too, and a run whose ``make run``
process is gone is marked failed instead."""

import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from movie_assets.automation.run_lock import PID_TAG, RunRefused, exclusive_run, holder_path, lock_path

HOLDER = textwrap.dedent(
    """
    import select, sys
    from pathlib import Path
    from dagster import DagsterInstance
    from movie_assets.automation.run_lock import exclusive_run
    with DagsterInstance.from_config(sys.argv[2]) as instance:
        with exclusive_run(Path(sys.argv[1]), instance, 10, print) as slot:
            slot.starting("run-a", "2026-11-20")
            print("locked", flush=True)
            select.select([sys.stdin], [], [], 120)
    """
)


@pytest.fixture
def instance(tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance


@pytest.fixture
def build_file(tmp_path: Path) -> Path:
    return tmp_path / "build" / "warehouse.duckdb"


@pytest.fixture
def holder(build_file: Path, instance: DagsterInstance):
    """Another process holding the turn as run ``run-a``, until its stdin is closed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(build_file), instance.root_directory],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()


def test_second_command_waits_for_the_holder_naming_it(build_file: Path, instance: DagsterInstance, holder):
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        # Released only once the waiting side has met the lock and said so.
        holder.stdin.close()

    with exclusive_run(build_file, instance, 60, say, poll_seconds=0.1) as slot:
        # The holder has gone: its lock and its note went with it.
        assert holder.wait(timeout=30) == 0
        slot.starting("run-b", "2026-11-21")
        assert '"run_id": "run-b"' in holder_path(build_file).read_text()
    assert len(said) == 1
    assert said[0].startswith(f"waiting for run run-a for 2026-11-20 (make run, PID {holder.pid}, since ")
    assert said[0].endswith(f"to finish: it holds {build_file} (at most 60 s, MOVIES_RUN_WAIT_TIMEOUT)")
    assert not holder_path(build_file).exists()
    assert lock_path(build_file).parent == build_file.parent


def test_refuses_in_one_line_after_the_bound(build_file: Path, instance: DagsterInstance, holder):
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(RunRefused) as refused:
        with exclusive_run(build_file, instance, 1.0, said.append, poll_seconds=0.1):
            pytest.fail("ran while another process held the build file")
    assert 1.0 <= time.monotonic() - started < 15
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"not started: run run-a for 2026-11-20 (make run, PID {holder.pid}")
    assert "after 1 s (MOVIES_RUN_WAIT_TIMEOUT)" in message
    assert len(said) == 1


def executing_run(instance: DagsterInstance, **tags: str) -> DagsterRun:
    run = DagsterRun(job_name="daily_refresh", run_id=str(uuid.uuid4()), status=DagsterRunStatus.STARTED, tags=tags)
    return instance.add_run(run)


def test_waits_for_a_run_executing_in_the_instance(build_file: Path, instance: DagsterInstance):
    run = executing_run(instance, **{"dagster/partition": "2026-11-20"})
    said: list[str] = []

    def finish_it(line: str) -> None:
        said.append(line)
        # A run of `make dev` ending while this command waits (another connection to the instance).
        with DagsterInstance.from_config(instance.root_directory) as other:
            other.report_run_canceled(other.get_run_by_id(run.run_id))

    with exclusive_run(build_file, instance, 60, finish_it, poll_seconds=0.1):
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.CANCELED
    assert said == [
        f"waiting for run {run.run_id} of daily_refresh for 2026-11-20 (STARTED) (make dev: the UI, the schedule "
        "or a sensor) to finish (at most 60 s, MOVIES_RUN_WAIT_TIMEOUT)"
    ]


def test_refuses_while_a_run_of_the_instance_stays_in_progress(build_file: Path, instance: DagsterInstance):
    run = executing_run(instance)
    with pytest.raises(RunRefused, match=f"not started: run {run.run_id} of daily_refresh \\(STARTED\\) still in progress"):
        with exclusive_run(build_file, instance, 0.5, lambda line: None, poll_seconds=0.1):
            pytest.fail("ran beside a run in progress")


def test_run_of_a_gone_make_run_is_marked_failed(build_file: Path, instance: DagsterInstance):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run = executing_run(instance, **{PID_TAG: gone.stdout.strip()})
    said: list[str] = []
    with exclusive_run(build_file, instance, 0.5, said.append, poll_seconds=0.1):
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
    assert said == [f"run {run.run_id} of daily_refresh (STARTED): its process (PID {gone.stdout.strip()}) is gone; marked failed"]
