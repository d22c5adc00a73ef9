"""``make run`` / ``make backfill`` while the service is up: every run goes through its queue.

The runs are submitted to the service's webserver with Dagster's public GraphQL client
(``dagster_graphql.DagsterGraphQLClient``), so the daemon starts them one writing run at a
time together with the schedule's, the sensor's and the UI's. The command then follows each
run in the service's instance (PostgreSQL) to its end and prints the same summary as an
embedded run; a run waiting in the queue is reported with the run it waits behind, and a
crashed run with the retry the service started for it.

Whether the service is up is explicit: ``make up`` writes ``<MOVIES_SERVICE_DIR>/state.json``
once the code location has loaded and ``make down`` removes it; the command then asks the
webserver over GraphQL. A state file whose supervisord is gone is stale and ignored.
"""

from __future__ import annotations

import json
import os
import time

import requests

from movie_assets.automation.service import LOCATION_NAME, Service, location_status
from movie_assets.settings import Settings

POLL_SECONDS = 1.0
#: How long a crashed run's command waits for the service to decide on a retry (the retry
#: daemon's loop) before it reports the failure.
RETRY_WAIT_SECONDS = 60.0
IN_PROGRESS = ("STARTING", "STARTED", "CANCELING")


class ServiceNotAnswering(RuntimeError):
    """``make up`` left the service up (state file, supervisord alive) but its webserver does
    not answer or has not loaded the code; nothing is run embedded beside it."""


def running_service(settings: Settings) -> str | None:
    """The webserver URL (``http://127.0.0.1:<port>``) of the service ``make up`` started for
    ``settings``, or None when it is not up (no state file, or its supervisord is gone).

    Raises:
        ServiceNotAnswering: the service is up but GraphQL does not answer with the code
            location loaded (the message names the URL and ``make status``).
    """
    service = Service(settings)
    try:
        url = json.loads(service.state_file.read_text(encoding="utf-8"))["webserver"]
    except (OSError, ValueError, KeyError):
        return None
    if service.supervisord_pid() is None:
        return None
    try:
        status, error = location_status(url)
    except requests.RequestException as failure:
        raise ServiceNotAnswering(f"the service is up but its webserver {url} does not answer ({failure}); see `make status`") from None
    if status != "LOADED":
        raise ServiceNotAnswering(f"the service's code location is {status}{': ' + error.splitlines()[0] if error else ''}; see `make status`")
    return url


def _run_label(record) -> str:
    run = record.dagster_run
    return f"run {run.run_id} ({run.job_name}, {run.tags.get('dagster/partition', 'no partition')}, {run.status.value.lower()})"


def blocking_run(instance, run_id: str) -> str | None:
    """What the queued run ``run_id`` waits behind: the writing run in progress, else the
    oldest run queued before it, as ``run <id> (<job>, <partition>, <status>)``; None if none."""
    from dagster import DagsterRunStatus, RunsFilter

    from movie_assets.run_tags import WRITES_WAREHOUSE_TAGS

    running = instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus(status) for status in IN_PROGRESS], tags=WRITES_WAREHOUSE_TAGS))
    if running:
        return _run_label(running[0])
    mine = instance.get_run_record_by_id(run_id)
    queued = instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.QUEUED]), ascending=True)
    ahead = [record for record in queued if mine is not None and record.create_timestamp < mine.create_timestamp]
    return _run_label(ahead[0]) if ahead else None


def follow(instance, run_id: str, partition: str, say=print):
    """Poll ``run_id`` until it ends (following the service's automatic retry of a crashed
    run); the last run (a ``DagsterRun``). Says once when it waits in the queue and behind
    what, and when it crashed and is retried."""
    said_queued = False
    while True:
        run = instance.get_run_by_id(run_id)
        if run.status.value == "QUEUED" and not said_queued:
            behind = blocking_run(instance, run_id)
            say(f"run {run_id} for {partition} waits in the service's queue" + (f" behind {behind}" if behind else ""))
            said_queued = True
        if run.is_finished:
            retry = _retry_of(instance, run)
            if retry is None:
                return run
            say(f"run {run_id} for {partition} crashed ({run.tags.get('dagster/failure_reason', 'unknown')}); following its retry {retry}")
            run_id, said_queued = retry, False
            continue
        time.sleep(POLL_SECONDS)


def _retry_of(instance, run) -> str | None:
    """The id of the service's automatic retry of the failed ``run``, or None (it succeeded,
    failed in a step or check, or was not retried)."""
    if run.status.value != "FAILURE":
        return None
    deadline = time.monotonic() + RETRY_WAIT_SECONDS
    while time.monotonic() < deadline:
        tags = instance.get_run_by_id(run.run_id).tags
        if tags.get("dagster/auto_retry_run_id"):
            return tags["dagster/auto_retry_run_id"]
        if tags.get("dagster/will_retry") == "false":
            return None
        time.sleep(POLL_SECONDS)
    return None


def submit_and_follow(
    settings: Settings,
    url: str,
    partitions: list[str],
    select: str,
    keys: list | None,
    tags: dict[str, str],
    refetch: bool = False,
) -> list:
    """Submit ``daily_refresh`` for each partition (oldest first) to the service at ``url``,
    then follow each run and print its summary; returns the runs' summaries
    (:class:`~movie_assets.automation.run_summary.RunSummary`) in order.

    ``select`` is the asset selection as the user gave it (``*``: the whole job), for the
    messages; ``keys`` are its asset keys (``dagster.AssetKey``; None for the whole job), which
    the caller resolves from the definitions, the layer above this one. ``tags`` are added to
    every run; ``refetch`` stores TMDB's current values for past
    days without an observation, marked late (:mod:`movie_assets.tmdb.observation`). Each
    run's event log is written to ``<MOVIES_LOG_DIR>/runs/<run id>.log``.

    Raises:
        dagster_graphql.DagsterGraphQLClientError: the service refused a submission (e.g. an
            invalid selection).
    """
    from dagster import DagsterInstance
    from dagster_graphql import DagsterGraphQLClient

    from movie_assets.automation.jobs import DAILY_REFRESH
    from movie_assets.automation.run_summary import report_run
    from movie_assets.tmdb.observation import TMDB_FETCH_OP, refetch_run_config

    service = Service(settings)
    client = DagsterGraphQLClient("127.0.0.1", port_number=int(url.rsplit(":", 1)[1]))
    fetches = keys is None or any(key.path == ["bronze", TMDB_FETCH_OP] for key in keys)
    run_config = refetch_run_config({TMDB_FETCH_OP} if fetches else set(), refetch)
    print(f"submitting {select!r} for {', '.join(partitions)} to the service at {url}", flush=True)
    submitted = [
        (
            partition,
            client.submit_job_execution(
                DAILY_REFRESH,
                repository_location_name=LOCATION_NAME,
                run_config=run_config,
                tags={**tags, "dagster/partition": partition},
                asset_selection=keys,
            ),
        )
        for partition in partitions
    ]
    # The instance config reads the storage URL from the environment, like the service's processes.
    os.environ["MOVIES_DAGSTER_PG_URL"] = service.postgres_url()
    summaries = []
    with DagsterInstance.from_config(str(service.dagster_home)) as instance:
        for partition, run_id in submitted:
            run = follow(instance, run_id, partition, say=lambda line: print(line, flush=True))
            log_path = settings.log_dir / "runs" / f"{run.run_id}.log"
            summaries.append(report_run(instance, run.run_id, partition, settings, log_path, links={"run in the UI": f"{url}/runs/{run.run_id}"}))
    return summaries
