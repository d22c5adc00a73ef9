"""One embedded run at a time: ``make run`` / ``make backfill`` without the run queue.

DuckDB lets one process write the build file at a time. ``make dev``'s run queue starts its
runs one at a time, but ``make run`` and ``make backfill`` execute in their own process, outside
that queue. :func:`exclusive_run` makes them take turns anyway:

- among themselves, through a file lock (the ``filelock`` package, an OS lock the kernel drops
  when its process ends, so a killed run never leaves it held) beside the build file, held for
  the whole command; the holder writes who it is (PID, run id, partition, since when) to a file
  next to it, which a waiting command names in its one line;
- with runs of the same Dagster instance in progress (started from ``make dev``: the UI, the
  schedule, a sensor), by waiting until none is in progress. A ``make run`` run is itself in
  progress in the instance while it executes, so ``make dev``'s queue (``max_concurrent_runs:
  1``) holds its runs back meanwhile.

The wait is bounded (``MOVIES_RUN_WAIT_TIMEOUT``); past it, :class:`RunRefused` carries one line.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter
from filelock import FileLock, Timeout

#: Tag of a run executed by ``make run`` / ``make backfill``: the PID of its process.
PID_TAG = "movies/cli_pid"
#: Statuses of a run that is executing (Dagster's queue counts the same ones against
#: ``max_concurrent_runs``).
EXECUTING = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


class RunRefused(Exception):
    """Another run kept the build file for the whole wait; ``str()`` is one line naming it."""


def lock_path(build_file: Path) -> Path:
    """The lock file of ``build_file`` (``<build file>.run-lock``), beside it."""
    return build_file.with_name(build_file.name + ".run-lock")


def holder_path(build_file: Path) -> Path:
    """The file where the lock's holder says who it is (JSON: ``pid``, ``since``, an ISO 8601
    UTC time, and ``run_id``, ``partition`` once its run starts, null before)."""
    return build_file.with_name(build_file.name + ".run-lock.holder")


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RunSlot:
    """The turn of this process, while :func:`exclusive_run` holds it."""

    build_file: Path

    def starting(self, run_id: str | None, partition: str | None) -> None:
        """Record that run ``run_id`` for ``partition`` (``YYYY-MM-DD``) starts now (None, None:
        the command holds the turn and prepares its run), for a command that waits meanwhile."""
        record = {"pid": os.getpid(), "run_id": run_id, "partition": partition, "since": _utc_now()}
        path = holder_path(self.build_file)
        temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(record))
        temporary.replace(path)


def describe_holder(build_file: Path) -> str:
    """Who holds the lock of ``build_file``, as its holder wrote it, e.g. ``run 1f2e… for
    2026-11-20 (make run, PID 4242, since 2026-12-04T16:20:01Z)``; ``another make run`` when it
    has not written it yet."""
    try:
        record = json.loads(holder_path(build_file).read_text())
    except (OSError, ValueError):
        return "another make run"
    if not _alive(record.get("pid")):
        # The file of a holder that has gone, while a new holder has not written its own yet.
        return "another make run"
    if record.get("run_id") is None:
        return f"make run (PID {record['pid']}, since {record['since']}, preparing its run)"
    return f"run {record['run_id']} for {record['partition']} (make run, PID {record['pid']}, since {record['since']})"


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe_run(run: DagsterRun) -> str:
    partition = run.tags.get("dagster/partition")
    return f"run {run.run_id} of {run.job_name}" + (f" for {partition}" if partition else "") + f" ({run.status.value})"


def executing_runs(instance: DagsterInstance, say: Callable[[str], None]) -> list[DagsterRun]:
    """Runs of ``instance`` executing now, other than this process's.

    A run tagged :data:`PID_TAG` whose process has gone (a ``make run`` that was killed) is
    marked failed in the instance instead (saying so through ``say``): nothing will ever finish
    it, and ``make dev``'s queue would wait for it forever.
    """
    executing = []
    for run in instance.get_runs(filters=RunsFilter(statuses=EXECUTING)):
        pid = run.tags.get(PID_TAG)
        if pid is not None:
            if int(pid) == os.getpid():
                continue
            if not _alive(int(pid)):
                instance.report_run_failed(run, message=f"its make run process (PID {pid}) ended without finishing it")
                say(f"{_describe_run(run)}: its process (PID {pid}) is gone; marked failed")
                continue
        executing.append(run)
    return executing


@contextmanager
def exclusive_run(
    build_file: Path,
    instance: DagsterInstance,
    timeout_seconds: float,
    say: Callable[[str], None],
    poll_seconds: float = 1.0,
) -> Iterator[RunSlot]:
    """Hold the turn to write ``build_file`` for the ``with`` block.

    Waits for another ``make run`` / ``make backfill`` holding it, then for runs of
    ``instance`` in progress, at most ``timeout_seconds`` in all, telling ``say`` once, in one
    line, which run it waits for.

    Raises:
        RunRefused: the wait reached ``timeout_seconds``; the message names the holder.
    """
    deadline = time.monotonic() + timeout_seconds
    build_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(build_file)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = describe_holder(build_file)
        say(f"waiting for {holder} to finish: it holds {build_file} (at most {timeout_seconds:.0f} s, MOVIES_RUN_WAIT_TIMEOUT)")
        try:
            lock.acquire(timeout=max(deadline - time.monotonic(), 0), poll_interval=poll_seconds)
        except Timeout:
            raise RunRefused(
                f"not started: {describe_holder(build_file)} still holds {build_file} after "
                f"{timeout_seconds:.0f} s (MOVIES_RUN_WAIT_TIMEOUT); run again when it has finished"
            ) from None
    try:
        announced: set[str] = set()
        while running := executing_runs(instance, say):
            names = ", ".join(_describe_run(run) for run in running)
            if time.monotonic() >= deadline:
                raise RunRefused(
                    f"not started: {names} still in progress in {instance.root_directory} after "
                    f"{timeout_seconds:.0f} s (MOVIES_RUN_WAIT_TIMEOUT); run again when it has finished"
                )
            if names not in announced:
                say(
                    f"waiting for {names} (make dev: the UI, the schedule or a sensor) to finish "
                    f"(at most {timeout_seconds:.0f} s, MOVIES_RUN_WAIT_TIMEOUT)"
                )
                announced.add(names)
            time.sleep(min(poll_seconds, max(deadline - time.monotonic(), 0.01)))
        slot = RunSlot(build_file)
        slot.starting(None, None)
        yield slot
    finally:
        holder_path(build_file).unlink(missing_ok=True)
        lock.release()
