"""``make run`` / ``make backfill``: materialize the graph for one day or a range of days.

    python -m movie_assets.cli                                   # today's (UTC) partition, whole graph
    python -m movie_assets.cli --partition 2026-11-20            # one day
    python -m movie_assets.cli --from 2026-11-18 --to 2026-11-20 # backfill: one run per day, oldest first
    python -m movie_assets.cli --from ... --to ... --select 'bronze/tmdb_movies,group:silver'

Runs execute here, one after another, in the Dagster instance in ``$DAGSTER_HOME`` (default
``data/dagster_home``) so they show up in ``make dev``; no daemon is needed. A backfill goes
on after a failed day and exits 1 naming the failed days. ``--select`` takes what
``dagster asset materialize --select`` takes (comma-separated), plus the other assets of a
step that writes several together. ``TMDB_SOURCE`` says where TMDB data comes from
(``snapshot``, the default: the bundled server over ``$MOVIES_INPUT_DIR/tmdb`` on a free
loopback port for each run; ``live``: the API, credentials required).

Each run prints a short summary (stage seconds, rows per layer, dead letters, checks, where
the outputs are); Dagster's events are kept in ``$DAGSTER_HOME`` (``make dev`` → Runs) and
written to ``$DAGSTER_HOME/logs/<run id>.log`` with the output of dbt. An invalid configuration exits 2 before any run starts.

While the service is up (``make up``), the runs are submitted to its queue instead and
followed to their end (:mod:`movie_assets.automation.service_client`), with the same summary.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

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
    """The command line: ``partition``, ``start``, ``end`` (dates or None) and ``select``."""
    parser = argparse.ArgumentParser(prog="python -m movie_assets.cli", description=__doc__.splitlines()[0])
    parser.add_argument("--partition", type=_day, help="the day to materialize (default: today, UTC)")
    parser.add_argument("--from", dest="start", type=_day, help="first day of a backfill")
    parser.add_argument("--to", dest="end", type=_day, help="last day of a backfill (inclusive)")
    parser.add_argument("--select", default="*", help="asset selection, as for `dagster asset materialize`")
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


QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def main(argv: list[str] | None = None) -> int:
    """Run the selection for each requested day; 0 when every run succeeded, 1 when a run
    failed, 2 for bad options or configuration (nothing runs then)."""
    from movie_assets.settings import load_settings_or_explain

    args = parse_args(argv)
    try:
        partitions = partitions_to_run(args.partition, args.start, args.end, datetime.now(timezone.utc).date())
        settings = load_settings_or_explain()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _quiet_warnings()

    from dagster import AssetSelection, DagsterInstance

    from movie_assets.automation.jobs import DAILY_REFRESH
    from movie_assets.automation.run_summary import (
        format_summary,
        lake_counts,
        summarize_events,
        warehouse_counts,
        write_event_log,
    )
    from movie_assets.warehouse.lake import Lake
    from movie_assets.definitions import build_definitions
    from movie_assets.partitions import build_daily_partitions
    from movie_assets.transform.project import build_dbt_project, prepare_manifest

    daily = build_daily_partitions(settings)
    outside = [key for key in partitions if not daily.has_partition_key(key)]
    if outside:
        first, last = daily.get_first_partition_key(), daily.get_last_partition_key()
        print(
            f"error: {', '.join(outside)} outside the daily partitions {first} (MOVIES_PARTITION_START) to {last} (today, UTC)",
            file=sys.stderr,
        )
        return 2

    from movie_assets.automation.service_client import ServiceNotAnswering, running_service, submit_and_follow

    try:
        service_url = running_service(settings)
    except ServiceNotAnswering as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if service_url is not None:
        # `make up` is running: the run goes through the service's queue, never beside it.
        tags = {BACKFILL_TAG: f"{partitions[0]}...{partitions[-1]}"} if len(partitions) > 1 else {}
        return submit_and_follow(settings, service_url, partitions, args.select, tags)

    # A dbt file changed since the last parse must not meet a stale manifest mid-run.
    prepare_manifest(build_dbt_project(settings), settings)
    defs = build_definitions(settings)
    job = defs.resolve_job_def(DAILY_REFRESH)
    if args.select != "*":
        # A multi-asset that cannot be split (the TMDB fetch) comes whole.
        selection = AssetSelection.from_coercible(args.select.split(",")).required_multi_asset_neighbors()
        keys = selection.resolve(defs.resolve_asset_graph())
        job = job.get_subset(asset_selection=keys)
    tags = {BACKFILL_TAG: f"{partitions[0]}...{partitions[-1]}"} if len(partitions) > 1 else {}
    home = Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / "data" / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    print(
        f"materializing {args.select!r} for {', '.join(partitions)} (TMDB source: {settings.tmdb_source}, "
        f"engine: {settings.engine}{' on ' + settings.spark_master if settings.engine == 'spark' else ''})",
        flush=True,
    )
    failed = []
    with DagsterInstance.from_config(str(home)) as instance:
        for partition in partitions:
            # dbt's own output (dagster-dbt echoes it to stdout) goes to the run's log file instead.
            with contextlib.redirect_stdout(io.StringIO()) as captured:
                result = job.execute_in_process(
                    partition_key=partition, instance=instance, tags=tags, raise_on_error=False, run_config=QUIET_RUN_CONFIG
                )
            log_path = write_event_log(instance, result.run_id, home / "logs" / f"{result.run_id}.log", captured.getvalue())
            summary = summarize_events(result.run_id, partition, result.success, instance.all_logs(result.run_id))
            layers = warehouse_counts(settings.build_duckdb_path)
            layers["bronze"], letters = lake_counts(Lake(settings.lake_dir), partition)
            outputs = {
                "readers' warehouse": settings.duckdb_path,
                "lake (bronze)": settings.lake_dir,
                "reports": settings.reports_dir,
                "full log": log_path,
            }
            print(format_summary(summary, layers, letters, settings.tmdb_source, outputs), flush=True)
            if not result.success:
                failed.append(partition)
    if failed:
        print(f"failed partitions: {', '.join(failed)}; see the full log above or `make dev` → Runs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
