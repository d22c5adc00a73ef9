"""``make run`` / ``make backfill``: materialize the graph for one day or a range of days.

    python -m movie_assets.cli                                   # today's (UTC) partition, whole graph
    python -m movie_assets.cli --partition 2026-11-20            # one day
    python -m movie_assets.cli --from 2026-11-18 --to 2026-11-20 # backfill: one run per day, oldest first
    python -m movie_assets.cli --from ... --to ... --select 'bronze/tmdb_movies,group:silver'
    python -m movie_assets.cli --from ... --to ... --refetch    # also fetch past days with no observation

Runs execute here, one after another, in the Dagster instance in ``$DAGSTER_HOME`` (default
``data/dagster_home``) so they show up in ``make dev``; no daemon is needed. One command at a
time writes the build file: a second ``make run`` (or one meeting a run of ``make dev``) waits
for it, saying which run it waits for, at most ``MOVIES_RUN_WAIT_TIMEOUT`` seconds, then
refuses in one line and exits 1. A backfill goes
on after a failed day and exits 1 naming the failed days. ``--select`` takes what
``dagster asset materialize --select`` takes (comma-separated), plus the other assets of a
step that writes several together. ``TMDB_SOURCE`` says where TMDB data comes from
(``snapshot``, the default: the bundled server over ``$MOVIES_INPUT_DIR/tmdb`` on a free
loopback port for each run; ``live``: the API, credentials required).

Each run prints a short summary (stage seconds, rows per layer, dead letters, checks, where
the outputs are); Dagster's events are kept in ``$DAGSTER_HOME`` (``make dev`` → Runs) and
written to ``$DAGSTER_HOME/logs/<run id>.log`` with the output of dbt and a failed step's
traceback (the summary shows the first lines of its error). An invalid configuration exits 2
before any run starts.

TMDB serves current values only (:mod:`movie_assets.tmdb.observation`): a past day already in
the lake is re-derived from it without fetching; a past day not in the lake gets nothing
written and is listed at the end; ``--refetch`` stores today's values for it, marked late.

While the service is up (``make up``), the runs are submitted to its queue instead and
followed to their end (:mod:`movie_assets.automation.service_client`), with the same summary.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from movie_assets.acceptance import ACCEPT_TAG
from movie_assets.settings import REPO_ROOT

BACKFILL_TAG = "movies/backfill"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def partitions_to_run(partition: date | None, start: date | None, end: date | None, today: date) -> list[str]:
    """Partition keys (``YYYY-MM-DD``, oldest first) for the command-line options.

    Raises:
        ValueError: ``--partition`` combined with a range, only one end of a range, or
            ``--from`` after ``--to``.
    """
    if partition and (start or end):
        raise ValueError("give either --partition or --from/--to, not both")
    if bool(start) != bool(end):
        raise ValueError("a backfill needs both --from and --to")
    if start and end:
        if start > end:
            raise ValueError(f"--from {start} is after --to {end}")
        return [(start + timedelta(days=offset)).isoformat() for offset in range((end - start).days + 1)]
    return [(partition or today).isoformat()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: ``partition``, ``start``, ``end`` (dates or None), ``select`` and ``accept``."""
    parser = argparse.ArgumentParser(prog="python -m movie_assets.cli", description=__doc__.splitlines()[0])
    parser.add_argument("--partition", type=_day, help="the day to materialize (default: today, UTC)")
    parser.add_argument("--from", dest="start", type=_day, help="first day of a backfill")
    parser.add_argument("--to", dest="end", type=_day, help="last day of a backfill (inclusive)")
    parser.add_argument("--select", default="*", help="asset selection, as for `dagster asset materialize`")
    parser.add_argument("--accept", default="", help="check names (comma-separated) whose failure this run accepts, e.g. gold_column_profiles")
    parser.add_argument(
        "--refetch",
        action="store_true",
        help="fetch past days anyway and store TMDB's current values under them, marked observed_late",
    )
    return parser.parse_args(argv)


def _quiet_warnings() -> None:
    """Hide warnings a user of ``make run`` cannot act on: Dagster's preview/beta notices
    (partitioned asset checks) and dagster-dbt's note that tests outside a check selection
    are only observed."""
    import warnings

    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


#: Dagster's console logger only for what never happens in a run (CRITICAL): a failed step's
#: error and traceback go to the run's log file, the terminal gets the summary.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _say(line: str) -> None:
    print(line, flush=True)


def selected_keys(defs, select: str) -> set | None:
    """The asset keys (``dagster.AssetKey``) of ``select`` in the ``Definitions`` ``defs``, plus
    the other assets of a step that writes several together (a multi-asset that cannot be
    split, such as the TMDB fetch, comes whole); None for ``*``, the whole job.

    Raises:
        dagster.DagsterInvalidSubsetError: ``select`` names no asset of ``defs``.
    """
    if select == "*":
        return None
    from dagster import AssetSelection

    selection = AssetSelection.from_coercible(select.split(",")).required_multi_asset_neighbors()
    return selection.resolve(defs.resolve_asset_graph())


def resolve_job(settings, select: str):
    """``daily_refresh`` for ``settings``, cut to ``select`` (what ``dagster asset materialize
    --select`` takes, comma-separated; ``*`` for all) plus the other assets of a step that
    writes several together. Re-parses the dbt manifest first when a dbt file changed.

    Raises:
        subprocess.CalledProcessError: ``dbt parse`` failed (its output names the file).
    """
    from movie_assets.automation.jobs import DAILY_REFRESH
    from movie_assets.definitions import build_definitions
    from movie_assets.transform.project import build_dbt_project, prepare_manifest

    # A dbt file changed since the last parse must not meet a stale manifest mid-run.
    prepare_manifest(build_dbt_project(settings), settings)
    defs = build_definitions(settings)
    job = defs.resolve_job_def(DAILY_REFRESH)
    keys = selected_keys(defs, select)
    return job if keys is None else job.get_subset(asset_selection=keys)


def run_embedded(instance, settings, select: str, partitions: list[str], tags: dict[str, str], refetch: bool = False) -> list:
    """Execute the selection (:func:`resolve_job`) in this process for each of ``partitions``
    (``YYYY-MM-DD``, in order) in ``instance``, printing each run's summary
    (:func:`report_run`); returns the runs' summaries in order. ``refetch`` stores TMDB's
    current values for past days without an observation, marked late
    (:mod:`movie_assets.tmdb.observation`).

    The whole command holds the turn to write the build file (``automation/run_lock.py``),
    the dbt parse of a changed project included: it first waits for another ``make run`` /
    ``make backfill`` or a run of ``make dev`` writing it, saying so in one line, at most
    ``MOVIES_RUN_WAIT_TIMEOUT`` seconds.

    Raises:
        RunRefused: the wait ran out; nothing ran.
    """
    from movie_assets.automation.run_lock import PID_TAG, exclusive_run
    from movie_assets.automation.run_summary import report_run
    from movie_assets.tmdb.observation import refetch_run_config

    summaries = []
    with exclusive_run(settings.build_duckdb_path, instance, settings.run_wait_timeout, say=_say) as slot:
        job = resolve_job(settings, select)
        run_config = {**QUIET_RUN_CONFIG, **refetch_run_config({node.name for node in job.nodes}, refetch)}
        for partition in partitions:
            # Dagster's run ids are UUID4s; chosen here so a waiting command can name the run.
            run_id = str(uuid.uuid4())
            slot.starting(run_id, partition)
            # dbt's own output (dagster-dbt echoes it to stdout) goes to the run's log file instead.
            with contextlib.redirect_stdout(io.StringIO()) as captured:
                job.execute_in_process(
                    partition_key=partition,
                    instance=instance,
                    run_id=run_id,
                    tags={**tags, PID_TAG: str(os.getpid())},
                    raise_on_error=False,
                    run_config=run_config,
                )
            log_path = Path(instance.root_directory) / "logs" / f"{run_id}.log"
            summaries.append(report_run(instance, run_id, partition, settings, log_path, captured.getvalue()))
    return summaries


def main(argv: list[str] | None = None) -> int:
    """Run the selection for each requested day; 0 when every run succeeded, 1 when a run
    failed or another run kept the build file for the whole wait (one line says which), 2 for
    bad options or configuration (nothing runs then)."""
    from movie_assets.settings import load_settings_or_explain

    args = parse_args(argv)
    try:
        partitions = partitions_to_run(args.partition, args.start, args.end, datetime.now(UTC).date())
        settings = load_settings_or_explain()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _quiet_warnings()

    from dagster import DagsterInstance

    from movie_assets.automation.run_lock import RunRefused
    from movie_assets.automation.run_summary import unobserved_days_line
    from movie_assets.automation.service_client import ServiceNotAnswering, running_service, submit_and_follow
    from movie_assets.partitions import build_daily_partitions

    daily = build_daily_partitions(settings)
    outside = [key for key in partitions if not daily.has_partition_key(key)]
    if outside:
        first, last = daily.get_first_partition_key(), daily.get_last_partition_key()
        print(
            f"error: {', '.join(outside)} outside the daily partitions {first} (MOVIES_PARTITION_START) to {last} (today, UTC)",
            file=sys.stderr,
        )
        return 2

    tags = {BACKFILL_TAG: f"{partitions[0]}...{partitions[-1]}"} if len(partitions) > 1 else {}
    if args.accept:
        tags[ACCEPT_TAG] = args.accept
    home = Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / "data" / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    print(
        f"materializing {args.select!r} for {', '.join(partitions)} (TMDB source: {settings.tmdb_source}, "
        f"engine: {settings.engine}{' on ' + settings.spark_master if settings.engine == 'spark' else ''})",
        flush=True,
    )
    try:
        service_url = running_service(settings)
    except ServiceNotAnswering as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if service_url is not None:
        # `make up` is running: the runs go through the service's queue, never beside it.
        from movie_assets.definitions import build_definitions

        keys = None if args.select == "*" else sorted(selected_keys(build_definitions(settings), args.select))
        summaries = submit_and_follow(settings, service_url, partitions, args.select, keys, tags, args.refetch)
    else:
        with DagsterInstance.from_config(str(home)) as instance:
            try:
                summaries = run_embedded(instance, settings, args.select, partitions, tags, args.refetch)
            except RunRefused as refusal:
                print(f"error: {refusal}", file=sys.stderr)
                return 1
    failed = [summary.partition for summary in summaries if not summary.succeeded]
    unobserved = [summary.partition for summary in summaries if summary.observation == "missing"]
    if len(partitions) > 1 and unobserved:
        print(unobserved_days_line(unobserved), flush=True)
    if failed:
        print(f"failed partitions: {', '.join(failed)}; see each run's full log above or `make dev` → Runs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
