"""``make run`` / ``make backfill``: materialize the graph for one day or a range of days.

    python -m movie_assets.cli                                   # today's (UTC) partition, whole graph
    python -m movie_assets.cli --partition 2026-11-20            # one day
    python -m movie_assets.cli --from 2026-11-18 --to 2026-11-20 # backfill: one run per day, oldest first
    python -m movie_assets.cli --from ... --to ... --select 'bronze/tmdb_movies,group:silver'

Runs execute here, one after another, in the Dagster instance in ``$DAGSTER_HOME`` (default
``data/dagster_home``) so they show up in ``make dev``; no daemon is needed. A backfill goes
on after a failed day and exits 1 naming the failed days. ``--select`` takes what
``dagster asset materialize --select`` takes (comma-separated), plus the other assets of a
step that writes several together. Without TMDB credentials the
TMDB resource serves ``$MOVIES_INPUT_DIR/tmdb`` on a free loopback port for each run (see
:mod:`movie_assets.definitions`).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, timedelta, timezone

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
    parser = argparse.ArgumentParser(prog="python -m movie_assets.cli", description=__doc__.splitlines()[0])
    parser.add_argument("--partition", type=_day, help="the day to materialize (default: today, UTC)")
    parser.add_argument("--from", dest="start", type=_day, help="first day of a backfill")
    parser.add_argument("--to", dest="end", type=_day, help="last day of a backfill (inclusive)")
    parser.add_argument("--select", default="*", help="asset selection, as for `dagster asset materialize`")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        partitions = partitions_to_run(args.partition, args.start, args.end, datetime.now(timezone.utc).date())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / "data" / "dagster_home"))
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)

    from dagster import AssetSelection, DagsterInstance

    from movie_assets.definitions import defs, settings
    from movie_assets.partitions import daily_partitions

    outside = [key for key in partitions if not daily_partitions.has_partition_key(key)]
    if outside:
        first, last = daily_partitions.get_first_partition_key(), daily_partitions.get_last_partition_key()
        print(
            f"error: {', '.join(outside)} outside the daily partitions {first} (MOVIES_PARTITION_START) to {last} (today, UTC)",
            file=sys.stderr,
        )
        return 2

    job = defs.resolve_job_def("daily_refresh")
    if args.select != "*":
        # A multi-asset that cannot be split (the TMDB fetch) comes whole.
        selection = AssetSelection.from_coercible(args.select.split(",")).required_multi_asset_neighbors()
        keys = selection.resolve(defs.resolve_asset_graph())
        job = job.get_subset(asset_selection=keys)
    tags = {BACKFILL_TAG: f"{partitions[0]}...{partitions[-1]}"} if len(partitions) > 1 else {}
    print(f"materializing {args.select!r} for {', '.join(partitions)} ({settings})", flush=True)
    failed = []
    with DagsterInstance.get() as instance:
        for partition in partitions:
            result = job.execute_in_process(
                partition_key=partition, instance=instance, tags=tags, raise_on_error=False
            )
            status = "succeeded" if result.success else "FAILED"
            print(f"{partition}: run {result.run_id} {status}", flush=True)
            if not result.success:
                failed.append(partition)
    if failed:
        print(f"failed partitions: {', '.join(failed)}; see `make dev` → Runs for the step logs", file=sys.stderr)
        return 1
    print(f"done: warehouse {settings.duckdb_path}, reports in {settings.reports_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
