"""Daily-run benchmark: does one day's dbt build cost what the day brings or what the history holds?

For each history length (``--history 30,300`` days of ``--movies`` movies) it

1. generates and lands the catalogue once with :func:`transform.landed_catalogue` (the same
   slim history as ``bench/transform.py``: full bodies on the newest day, slim ones before);
2. copies the landed lake into a work folder (hard links: the product replaces a partition's
   file by rename, never in place, so the shared landing is never written) and builds it
   in full (``dbt build`` without a window, not timed), as the warehouse stands before a day;
3. lands the next day: the full body of every movie (the newest day's bodies, fetched again)
   as a new ``bronze.tmdb_movies`` partition and an empty dead-letter partition;
4. times the daily job's dbt work for that partition: the same three invocations Dagster makes
   (``movie_assets/transform/dbt_assets.py``), with the partition window:
   ``dbt build`` of ``tag:daily``'s silver models, of every model but ``tag:daily``, then of
   the fact. Each command's manifest is parsed first with the same vars and window (not timed, as ``transform.py`` does: the parse
   does not depend on the data); the peak RSS is the dbt process tree's.

5. times what the run adds before publication on the same day: the TMDB body contract over
   the day's partition and the drift gates (:func:`time_contract_and_gates`);
6. with ``--publish``, publishes the build (:func:`publish_snapshot`, not timed) before the day
   and after it into ``serving/`` of the work folder, and records both snapshots' paths and the
   day (``snapshot_before``, ``snapshot_after``, ``day``): the pair that ``bench/postgres_publish.py
   --pair`` publishes as a full load and then as a daily run.

Prints one JSON line per history (``history_days``, ``daily_seconds``, ``peak_rss_gib``,
``contract_seconds``, ``gates_seconds``, ...)
and a last line ``{"ratio": daily_N / daily_first}``; the target is a ratio of at most 1.3 for
30 and 300 days. Full results, with the per-node seconds of both invocations, in
``--out``/``daily.json``.

Run::

    .venv/bin/python bench/daily.py --movies 100k --history 30,300   # 4-12 min the first time (landing)
    .venv/bin/python bench/daily.py --movies 20k --history 3,6       # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
from generate import parse_size
from transform import DBT_EXCLUDE, DBT_PROJECT, DBT_SELECT, RUN_ID, TMDB_SOURCE, day_rows_sql, gib, landed_catalogue, node_stats, run_dbt

from _common import REPO_ROOT, RESULTS_DIR, machine_info, save_json

sys.path.insert(0, str(REPO_ROOT))
from movie_assets.serving.gates import GateLimits, build_profile, evaluate_gates, landed_volume  # noqa: E402
from movie_assets.serving.publish import publish_snapshot  # noqa: E402
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE, tmdb_lake  # noqa: E402
from movie_assets.tmdb.contract import measure_partition  # noqa: E402
from movie_assets.tmdb.dead_letters import DEAD_LETTER_TABLE, dead_letter_rows  # noqa: E402
from movie_assets.transform.dbt_assets import DAILY_GOLD_MODELS, DAILY_MODELS, DAILY_SILVER_MODELS  # noqa: E402
from movie_assets.warehouse.lake import Lake  # noqa: E402

# The three dbt invocations of a daily run, in Dagster's order (the day-by-day silver models,
# the unpartitioned ones, the fact), restricted like transform.py to the models fed by TMDB
# bronze (and what they read) and without unit tests.
INVOCATIONS = {
    "daily-silver": ["build", "--select", DAILY_SILVER_MODELS, *DBT_EXCLUDE],
    "unpartitioned": ["build", "--select", DBT_SELECT, "--exclude", DAILY_MODELS, *DBT_EXCLUDE],
    "daily-fact": ["build", "--select", DAILY_GOLD_MODELS, *DBT_EXCLUDE],
}


def land_next_day(lake: Lake, catalogue: Path, history: str) -> str:
    """Write the day after the catalogue's newest as a new partition of ``lake``: every movie's
    full body (the newest day's) and an empty dead-letter partition.

    Returns:
        the new partition date, ``YYYY-MM-DD``.
    """
    newest = date.fromisoformat(json.loads((catalogue / "catalogue.json").read_text())["end_date"])
    day = (newest + timedelta(days=1)).isoformat()
    sql = day_rows_sql(catalogue / "details.parquet", catalogue / "daily.parquet", history, newest=True)
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        rows = conn.sql(sql, params=[day]).to_arrow_table()
    lake.write_partition(TMDB_MOVIES_TABLE, day, rows)
    lake.write_partition(DEAD_LETTER_TABLE, day, dead_letter_rows([], day, RUN_ID))
    return day


def time_contract_and_gates(lake: Lake, build_path: Path, day: str, published: dict) -> dict:
    """Wall seconds of what the daily run adds before publication: the TMDB body contract over
    the day's bronze partition (``contract_seconds``), and the drift gates (``gates_seconds``:
    the landed volume from the lake, the build's profile, the comparison with ``published``);
    with the contract breaches and failed gates found (none expected)."""
    started = time.perf_counter()
    with tmdb_lake(lake) as conn:
        report = measure_partition(conn, TMDB_MOVIES_TABLE, day)
    contract = time.perf_counter() - started
    started = time.perf_counter()
    with tmdb_lake(lake) as conn:
        landed = landed_volume(conn, day)
    with duckdb.connect(str(build_path), read_only=True) as conn:
        profile = build_profile(conn, landed)
    gates = evaluate_gates(profile, published, GateLimits())
    return {
        "contract_seconds": round(contract, 3),
        "gates_seconds": round(time.perf_counter() - started, 3),
        "contract_breaches": [breach.line() for breach in report.breaches],
        "failed_gates": {name: gate.lines for name, gate in gates.items() if not gate.passed},
    }


def publish(build_path: Path, lake: Lake, work: Path, day: str) -> str:
    """Publish ``build_path`` as the snapshot of ``day`` into ``work/serving`` (keeping the
    previous one) and return the snapshot's path."""
    serving = work / "serving"
    publication = publish_snapshot(
        build_path, lake, serving, serving / "warehouse.duckdb", keep=2, run_id=RUN_ID, partition_date=day, tmdb_source=TMDB_SOURCE
    )
    return str(publication.snapshot)


def bench_history(
    movies: int, days: int, history: str, data_dir: Path, out_dir: Path, seed: int, project: Path, memory_limit: str, publish_snapshots: bool = False
) -> dict:
    """Land (once), build in full, then time one daily run on ``movies`` x ``days`` of history;
    with ``publish_snapshots``, publish the build before and after the day (not timed).

    Returns:
        ``history_days``, ``daily_seconds`` (wall seconds of the three dbt builds), ``peak_rss_gib``
        (largest dbt process tree of the three), ``full_build_seconds`` and ``nodes`` (per
        invocation: dbt's per-node seconds and built rows, slowest first).

    Raises:
        RuntimeError: a dbt command failed (message holds its log tail).
    """
    label, catalogue, landed_lake, _, bronze = landed_catalogue(movies, days, history, data_dir, seed)
    work = out_dir / f"{label}x{days}-{history}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lake = Lake(work / "lake")
    shutil.copytree(landed_lake.root, lake.root, copy_function=os.link)
    build_path = work / "warehouse.duckdb"
    profile_vars = {"duckdb_path": str(build_path), "lake_dir": str(lake.root), "memory_limit": memory_limit}

    print(f"[{label}x{days}] {bronze['rows']:,} bronze rows; full build", flush=True)
    run_dbt(["parse"], profile_vars, work / "full", project)
    full = run_dbt(["build", "--select", DBT_SELECT, *DBT_EXCLUDE], profile_vars, work / "full", project)

    # The profile the last publication would hold (not timed: it is read from meta, one row).
    with duckdb.connect(str(build_path), read_only=True) as conn:
        published = build_profile(conn)
    newest = json.loads((catalogue / "catalogue.json").read_text())["end_date"]
    snapshots = {"snapshot_before": publish(build_path, lake, work, newest)} if publish_snapshots else {}
    day = land_next_day(lake, catalogue, history)
    window = {"min_date": day, "max_date": (date.fromisoformat(day) + timedelta(days=1)).isoformat()}
    print(f"[{label}x{days}] daily run of {day}", flush=True)
    seconds, peak, nodes = 0.0, 0, {}
    for name, command in INVOCATIONS.items():
        run_dbt(["parse"], profile_vars, work / name, project, window)
        result = run_dbt(command, profile_vars, work / name, project, window)
        seconds += result["seconds"]
        peak = max(peak, result["peak_rss_bytes"])
        nodes[name] = sorted(node_stats(build_path, work / name / "target"), key=lambda node: -node["seconds"])
    checks = time_contract_and_gates(lake, build_path, day, published)
    if publish_snapshots:
        snapshots.update(snapshot_after=publish(build_path, lake, work, day), day=day)
    return {
        **checks,
        **snapshots,
        "history_days": days,
        "daily_seconds": round(seconds, 3),
        "peak_rss_gib": gib(peak),
        "movies": movies,
        "bronze_rows": bronze["rows"],
        "full_build_seconds": full["seconds"],
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "nodes": nodes,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=parse_size, default=100_000, help="catalogue size, e.g. 100k")
    parser.add_argument("--history", default="30,300", help="comma-separated days of history before the daily run")
    parser.add_argument("--bodies", choices=("slim", "full"), default="slim", help="older days' bodies (transform.py --history)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", type=Path, default=RESULTS_DIR / "data", help="where generated catalogues live")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "daily")
    parser.add_argument("--project-dir", type=Path, default=DBT_PROJECT, help="dbt project to build (default: the repo's)")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit of dbt (the product's default)")
    parser.add_argument("--publish", action="store_true", help="publish a snapshot before and after the day (for postgres_publish.py --pair)")
    args = parser.parse_args(argv)
    args.out, args.data, args.project_dir = args.out.resolve(), args.data.resolve(), args.project_dir.resolve()
    result = {"machine": machine_info(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": []}
    for days in (int(text) for text in args.history.split(",") if text.strip()):
        run = bench_history(args.movies, days, args.bodies, args.data, args.out, args.seed, args.project_dir, args.memory_limit, args.publish)
        result["runs"].append(run)
        save_json(args.out / "daily.json", result)
        print(json.dumps({key: value for key, value in run.items() if key != "nodes"}), flush=True)
    runs = result["runs"]
    result["ratio"] = round(runs[-1]["daily_seconds"] / runs[0]["daily_seconds"], 3)
    save_json(args.out / "daily.json", result)
    print(json.dumps({"ratio": result["ratio"]}))


if __name__ == "__main__":
    main()
