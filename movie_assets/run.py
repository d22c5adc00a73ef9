"""``make run``: materialize the whole asset graph for today's (UTC) partition.

Uses the Dagster instance in ``$DAGSTER_HOME`` so the run shows up in ``make dev``. Without
TMDB credentials the TMDB resource serves ``$MOVIES_INPUT_DIR/tmdb`` on a free loopback port
for the length of the run (see :mod:`movie_assets.definitions`).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from dagster import DagsterInstance


def main() -> int:
    from movie_assets.definitions import defs, settings

    partition = datetime.now(timezone.utc).date().isoformat()
    job = defs.resolve_job_def("daily_refresh")
    print(f"materializing the whole graph for partition {partition} ({settings})", flush=True)
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(partition_key=partition, instance=instance, raise_on_error=False)
    if not result.success:
        print(f"run {result.run_id} failed; see `make dev` → Runs for the step logs", file=sys.stderr)
        return 1
    print(f"run {result.run_id} succeeded: warehouse {settings.duckdb_path}, reports in {settings.reports_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
