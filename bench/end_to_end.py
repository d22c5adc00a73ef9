"""End-to-end benchmark: the whole asset graph on the real sample data, three daily runs.

Starts the project's local TMDB server (:mod:`movie_assets.tmdb.replay_server`, no added latency,
with the request log of the tests' ``tests/support/tmdb_faults.py``) over ``$MOVIES_INPUT_DIR/tmdb``
on a loopback port and points the pipeline at it as if it were the live API (``TMDB_BASE_URL`` + a throw-away ``TMDB_API_KEY``), so this process owns
the server and reads its request log. Everything else is the project's own configuration,
with a fresh warehouse, reports folder and Dagster instance in ``--out`` (configured by
``scripts/dagster.yaml``, as ``make`` configures ``$DAGSTER_HOME``).

1. **first**: the ``daily_refresh`` job for day D on an empty warehouse, default config
   (the analyst's ID list, fetched in full);
2. **second, incremental**: day D+1 with ``id_sources: [ids-file, changes]``, the
   changes-driven refresh, while nothing changed on the server (its change feed is empty):
   no detail is fetched, ``bronze/tmdb_movies`` is not materialized and the steps downstream
   of it are skipped (counted in ``skipped_steps``);
3. **second, default config**: day D+2 with the default config, which fetches the whole list
   again every day.

For each run: wall time of ``execute_in_process``, the time of each step from the Dagster
event log, grouped into bronze / dbt / serving / reports by the group of the assets the step
materialized or checked, the orchestration overhead (wall time not inside any step:
resource set-up, the run's planned-event writes, run bookkeeping), peak RSS of this
process and its children (dbt), and the requests the server saw (``GET /movie/{id}`` detail
fetches counted apart). Preparing the dbt manifest and building the definitions is timed
apart.

Run::

    .venv/bin/python bench/end_to_end.py
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import REPO_ROOT, RESULTS_DIR, PeakRSS, Stopwatch, machine_info, markdown_table, save_json

sys.path.insert(0, str(REPO_ROOT))
# The request-logging server is a test tool (tests/support), not part of the product.
sys.path.insert(0, str(REPO_ROOT / "tests"))

# The three runs take three consecutive days ending today (UTC): later days are not partitions yet.
DEFAULT_DAY = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
DETAIL_PATH = re.compile(r"^/3/movie/\d+(\?|$)")
STAGES = {"bronze": "bronze", "silver": "dbt", "gold": "dbt", "reports": "reports"}


def bench_settings(out: Path, base_url: str, api_key: str, input_dir: Path):
    """Settings pointing the pipeline at ``out`` (every storage tier: lake, build file, serving
    folder and readers' path) and at the local server as if it were the live API (so the run
    pays real HTTP and the bench can count the requests the server saw).

    The live TMDB resource reads its key from the environment when a run starts, so the
    throw-away local key is exported for this process.
    """
    from movie_assets.settings import Settings

    os.environ["TMDB_API_KEY"] = api_key
    return Settings(
        _env_file=None,
        tmdb_source="live",
        tmdb_base_url=base_url,
        tmdb_api_key=api_key,
        duckdb_path=out / "warehouse.duckdb",
        lake_dir=out / "lake",
        build_duckdb_path=out / "build" / "warehouse.duckdb",
        serving_dir=out / "serving",
        reports_dir=out / "reports",
        input_dir=input_dir,
        schedule_enabled=False,
        # A failed step must not leave the next run waiting a minute for the file.
        duckdb_lock_timeout=10,
    )


def step_stages(defs) -> dict[str, str]:
    """step key (op name) → stage: bronze, dbt (silver/gold), reports, or another group's name.

    A step's stage is the group of the assets it materializes, or of the asset it checks.
    """
    graph = defs.resolve_asset_graph()
    stages: dict[str, str] = {}
    for assets_def in graph.assets_defs:
        keys = list(assets_def.keys) or [check_key.asset_key for check_key in assets_def.check_keys]
        if not keys or not assets_def.is_executable:
            continue
        group = graph.get(keys[0]).group_name
        stages[assets_def.node_def.name] = STAGES.get(group, group)
    return stages


def bronze_op(defs) -> str:
    """Name of the op that materializes ``bronze/tmdb_movies`` (where its run config goes)."""
    from dagster import AssetKey

    return defs.resolve_assets_def(AssetKey(["bronze", "tmdb_movies"])).node_def.name


def step_times(records) -> dict[str, float]:
    """step key → seconds from STEP_START to STEP_SUCCESS/STEP_FAILURE (event-log timestamps)."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for record in records:
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            seconds[event.step_key] = round(record.timestamp - started[event.step_key], 3)
    return seconds


def run_day(job, instance, partition: str, server, stages: dict[str, str], run_config: dict | None = None) -> dict:
    """Execute ``job`` for ``partition`` (with ``run_config``); returns its timings, requests and success."""
    first_request = len(server.request_log)
    # Sampled every 0.5 s, not 0.05 s: walking the process tree 20 times a second took ~7 CPU-s
    # of a run on 2 cores (py-spy), time the run itself then waited for.
    with PeakRSS(interval=0.5) as rss, Stopwatch() as watch:
        result = job.execute_in_process(partition_key=partition, instance=instance, raise_on_error=False, run_config=run_config)
    requests = server.request_log[first_request:]
    records = instance.all_logs(result.run_id)
    seconds = step_times(records)
    by_stage: dict[str, float] = defaultdict(float)
    for step_key, step_seconds in seconds.items():
        by_stage[stages.get(step_key, "other")] += step_seconds
    failed = [r.dagster_event.step_key for r in records if r.dagster_event and r.dagster_event.event_type_value == "STEP_FAILURE"]
    skipped = [r.dagster_event.step_key for r in records if r.dagster_event and r.dagster_event.event_type_value == "STEP_SKIPPED"]
    return {
        "partition": partition,
        "run_config": run_config,
        "success": result.success,
        "failed_steps": failed,
        "skipped_steps": skipped,
        "wall_seconds": watch.seconds,
        "stage_seconds": {stage: round(value, 3) for stage, value in sorted(by_stage.items())},
        "orchestration_seconds": round(watch.seconds - sum(seconds.values()), 3),
        "steps": [{"step": key, "stage": stages.get(key, "other"), "seconds": value} for key, value in seconds.items()],
        "requests": len(requests),
        "detail_fetches": sum(1 for r in requests if DETAIL_PATH.match(r.path)),
        "peak_rss_gib": rss.peak_gib,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", default=DEFAULT_DAY, help="first run's partition (the later runs take the next days)")
    parser.add_argument("--input-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "end_to_end")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()  # DAGSTER_HOME must be absolute

    work = args.out / "run"
    shutil.rmtree(work, ignore_errors=True)
    (work / "dagster_home").mkdir(parents=True)
    # The instance the product runs with (make copies the same file into $DAGSTER_HOME).
    shutil.copy(REPO_ROOT / "scripts" / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    from movie_assets.tmdb.replay_server import Snapshot
    from support.tmdb_faults import FaultyReplayServer

    api_key = secrets.token_hex(16)
    snapshot = Snapshot.load(args.input_dir / "tmdb")
    with FaultyReplayServer(snapshot, api_key=api_key) as server:
        settings = bench_settings(work, server.base_url, api_key, args.input_dir)
        with Stopwatch() as import_watch:
            from dagster import DagsterInstance

            from movie_assets.definitions import build_definitions
            from movie_assets.transform.project import build_dbt_project, prepare_manifest

            prepare_manifest(build_dbt_project(settings), settings)
            defs = build_definitions(settings)
        job = defs.resolve_job_def("daily_refresh")
        stages = step_stages(defs)
        day = date.fromisoformat(args.day)
        # The first two days are past days (TMDB serves only current values): fetched anyway
        # with refetch, as a backfill would, so every run pays the same fetch.
        refetch = {"ops": {bronze_op(defs): {"config": {"refetch": True}}}}
        incremental = {"ops": {bronze_op(defs): {"config": {"id_sources": ["ids-file", "changes"], "refetch": True}}}}
        plan = [
            ("first", day, refetch),
            ("second, incremental", day + timedelta(days=1), incremental),
            ("second, default config", day + timedelta(days=2), None),
        ]
        runs = {}
        with DagsterInstance.from_config(str(work / "dagster_home")) as instance:
            for name, partition, run_config in plan:
                runs[name] = run_day(job, instance, partition.isoformat(), server, stages, run_config)
                print(f"{name}: {runs[name]['wall_seconds']} s {runs[name]['stage_seconds']}", flush=True)

    result = {
        "machine": machine_info(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "import_seconds": import_watch.seconds,
        "runs": runs,
    }
    save_json(args.out / "end_to_end.json", result)
    rows = []
    for name, run in result["runs"].items():
        rows.append(
            {
                "run": name,
                "partition": run["partition"],
                "success": run["success"],
                "failed_steps": ", ".join(run["failed_steps"]),
                "skipped_steps": len(run["skipped_steps"]),
                "wall_seconds": run["wall_seconds"],
                **{f"{stage}_seconds": value for stage, value in run["stage_seconds"].items()},
                "orchestration_seconds": run["orchestration_seconds"],
                "requests": run["requests"],
                "detail_fetches": run["detail_fetches"],
                "peak_rss_gib": run["peak_rss_gib"],
            }
        )
    columns = list(dict.fromkeys(column for row in rows for column in row))
    steps = [{"run": name, **step} for name, run in result["runs"].items() for step in sorted(run["steps"], key=lambda s: -s["seconds"])]
    table = "\n".join(
        [
            f"Definitions import: {import_watch.seconds} s",
            "",
            markdown_table(rows, columns),
            "",
            markdown_table(steps, ["run", "step", "stage", "seconds"]),
        ]
    )
    (args.out / "end_to_end.md").write_text(table + "\n")
    print(table)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
