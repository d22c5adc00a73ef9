"""Transform benchmark: ``dbt build`` of silver and gold over a synthetic catalogue at scale.

For each size (default 100k, 300k and 1M movies, 30 days each) it

1. generates the catalogue with :mod:`generate` unless it is already in ``--data``;
2. loads it into ``bronze.tmdb_movies`` of a DuckDB file beside the catalogue (once; later
   runs reuse it) with the bronze asset's own DDL, and the real sample's provider
   deliveries with the provider loader (they do not scale), and copies that file to a fresh
   one under ``--out`` for the build (never the project's ``data/warehouse.duckdb``);
3. runs ``dbt parse`` (not timed: it warms partial parsing the way a deployed project has a
   manifest), then times ``dbt build`` of every model and test fed by
   ``source:bronze.tmdb_movies`` (and what those read) as a child process, sampling the
   peak RSS of the whole process tree every 50 ms;
4. reads dbt's ``run_results.json`` for per-node times and counts each table's rows, giving
   rows/second per model; reports the DuckDB file size after the build.

Bronze layout (``--history``): the newest day holds the full ``GET /movie/{id}`` body of
every movie; each older day holds, per movie, ``slim`` bodies with only the fields that
change daily (``id, title, popularity, vote_average, vote_count``; the title because a
real body always has one), or with ``full`` the whole body
with that day's values patched in (``json_merge_patch``). ``slim`` is the default because
30 full bodies of 1M movies are ~35 GB of JSON that the 2-core target cannot parse in two
minutes; silver's latest-fetch rule still reads complete records (the newest day), and the
daily fact reads its measures from every day. See ``bench/README.md``.

Run::

    .venv/bin/python bench/transform.py --sizes 100k,300k,1M --days 30
    .venv/bin/python bench/transform.py --sizes 20k --days 5          # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

from _common import RESULTS_DIR, REPO_ROOT, PeakRSS, Stopwatch, file_bytes, machine_info, markdown_table, save_json
from generate import DEFAULT_SAMPLE, generate, parse_size

sys.path.insert(0, str(REPO_ROOT))
from movie_assets.tmdb.assets import TMDB_MOVIES_COLUMNS, TMDB_MOVIES_TABLE  # noqa: E402
from movie_assets.warehouse.tables import ensure_table  # noqa: E402

DBT_PROJECT = REPO_ROOT / "dbt_project"
# Every model fed by the TMDB bronze table plus everything those models read ("@"), so the
# models that join TMDB with the provider deliveries are built (and timed) too.
DBT_SELECT = "@source:bronze.tmdb_movies"
SLIM_FIELDS = ("popularity", "vote_average", "vote_count")


def dbt_executable() -> str:
    """The venv's ``dbt`` (beside this interpreter)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def load_providers(db_path: Path, providers_dir: Path) -> int:
    """Load the real sample provider deliveries (critic, audience, box office) into bronze
    with the provider assets' own loader; their size does not grow with the catalogue.

    Returns:
        rows loaded across the provider tables.
    """
    from movie_assets.providers.assets import DELIVERIES, load_delivery

    with duckdb.connect(str(db_path)) as conn:
        return sum(load_delivery(conn, delivery, providers_dir).rows for delivery in DELIVERIES)


def load_bronze(db_path: Path, catalogue: Path, history: str = "slim") -> dict:
    """Load a generated catalogue into ``bronze.tmdb_movies`` of ``db_path``.

    Rows: every movie on the newest day with its full body, plus one row per movie per
    older day (``history`` ``slim`` or ``full``, see the module docstring). Audit columns
    as the bronze asset writes them: fetched_at 06:00 UTC of the day plus a few seconds,
    run_id ``bench``, http_status 200, request_path ``/3/movie/{id}``.

    Returns:
        rows loaded, seconds, and the file size in bytes after the load.

    Raises:
        FileNotFoundError: the catalogue's parquet files are missing.
        ValueError: ``history`` is not ``slim`` or ``full``.
    """
    details, daily = catalogue / "details.parquet", catalogue / "daily.parquet"
    for path in (details, daily):
        if not path.exists():
            raise FileNotFoundError(f"catalogue file missing: {path} (run bench/generate.py)")
    if history not in ("slim", "full"):
        raise ValueError(f"history must be 'slim' or 'full', got {history!r}")
    newest = json.loads((catalogue / "catalogue.json").read_text())["end_date"]
    observation = "json_object('id', d.movie_id, " + ", ".join(f"'{f}', d.{f}" for f in SLIM_FIELDS) + ")"
    if history == "slim":
        older_payload = observation.replace("d.movie_id, ", "d.movie_id, 'title', t.title, ", 1)
        # The title is read once a movie here, not once a movie a day after the join.
        details_side = f"(SELECT movie_id, payload ->> '$.title' AS title FROM read_parquet('{details}'))"
    else:
        older_payload = f"json_merge_patch(t.payload, {observation})"
        details_side = f"read_parquet('{details}')"
    audit = (
        "d.partition_date + INTERVAL 6 HOUR + to_seconds(d.movie_id % 3600), d.partition_date, 'bench', 200, "
        "'/3/movie/' || d.movie_id"
    )
    with Stopwatch() as watch, duckdb.connect(str(db_path)) as conn:
        ensure_table(conn, TMDB_MOVIES_TABLE, TMDB_MOVIES_COLUMNS)
        columns = "movie_id, payload, fetched_at, partition_date, run_id, http_status, request_path"
        conn.execute(
            f"INSERT INTO {TMDB_MOVIES_TABLE} ({columns}) "
            f"SELECT d.movie_id, {older_payload}, {audit} FROM read_parquet('{daily}') AS d "
            f"JOIN {details_side} AS t USING (movie_id) "
            "ORDER BY d.partition_date, d.movie_id"
        )
        conn.execute(
            f"INSERT INTO {TMDB_MOVIES_TABLE} ({columns}) "
            f"SELECT d.movie_id, d.payload, {audit} "
            f"FROM (SELECT movie_id, payload, DATE '{newest}' AS partition_date FROM read_parquet('{details}')) AS d"
        )
        rows = conn.execute(f"SELECT count(*) FROM {TMDB_MOVIES_TABLE}").fetchone()[0]
        payload_bytes = conn.execute(f"SELECT sum(strlen(payload::VARCHAR)) FROM {TMDB_MOVIES_TABLE}").fetchone()[0]
        conn.execute("CHECKPOINT")
    return {"rows": rows, "payload_bytes": int(payload_bytes), "seconds": watch.seconds, "file_bytes": file_bytes(db_path)}


def run_dbt(command: list[str], db_path: Path, work: Path, project: Path = DBT_PROJECT) -> dict:
    """Run ``dbt <command>`` in ``project`` on ``db_path``, with target and logs under ``work``.

    Returns:
        wall seconds, peak RSS of the dbt process tree (bytes), return code, and the path
        of ``run_results.json``.

    Raises:
        RuntimeError: dbt could not start, or exited with an error (message holds the log tail).
    """
    # profiles.yml renders the warehouse path from a dbt var, as the pipeline passes it.
    args = [
        dbt_executable(), *command, "--vars", json.dumps({"duckdb_path": str(db_path)}),
        "--project-dir", str(project), "--profiles-dir", str(project),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]
    log = (work / f"dbt_{command[0]}.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=project, stdout=log, stderr=subprocess.STDOUT)
    with PeakRSS(process.pid) as rss:
        code = process.wait()
    wall = round(time.monotonic() - started, 3)
    log.close()
    if code != 0:
        tail = (work / f"dbt_{command[0]}.log").read_text()[-3000:]
        raise RuntimeError(f"dbt {' '.join(command)} exited {code} on {db_path}:\n{tail}")
    return {"seconds": wall, "peak_rss_bytes": rss.peak_bytes, "run_results": work / "target" / "run_results.json"}


def node_stats(db_path: Path, target: Path) -> list[dict]:
    """Per-node figures from dbt's artifacts: kind, materialization, seconds, rows, rows/second.

    Rows are counted in the built tables (``count(*)``); views and tests have none.
    """
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    stats = []
    with duckdb.connect(str(db_path), read_only=True) as conn:
        for result in results:
            node = nodes[result["unique_id"]]
            materialized = node["config"].get("materialized") if node["resource_type"] == "model" else "test"
            if node["resource_type"] == "unit_test":
                materialized = "unit test"
            rows = None
            if materialized in ("table", "incremental"):
                rows = conn.execute(f"SELECT count(*) FROM {node['schema']}.{node['alias']}").fetchone()[0]
            seconds = round(result["execution_time"], 3)
            stats.append(
                {
                    "node": node["name"] if "test" in materialized else f"{node['schema']}.{node['alias']}",
                    "kind": materialized,
                    "status": result["status"],
                    "seconds": seconds,
                    "rows": rows,
                    "rows_per_second": round(rows / seconds) if rows and seconds else None,
                }
            )
    return stats


def startup_seconds(target: Path, started_wall: float) -> float | None:
    """Seconds from launching dbt to its first node starting to compile (parse, connect, plan)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    firsts = [r["timing"][0]["started_at"] for r in results if r["timing"]]
    if not firsts:
        return None
    first = min(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in firsts)
    return round(first - started_wall, 3)


def bench_size(
    movies: int,
    days: int,
    history: str,
    data_dir: Path,
    out_dir: Path,
    seed: int = 42,
    keep: bool = False,
    sample: Path = DEFAULT_SAMPLE,
    project: Path = DBT_PROJECT,
) -> dict:
    """Generate (if needed), load and build one catalogue size; returns its figures."""
    label = f"{movies // 1000}k" if movies < 1_000_000 else f"{movies / 1_000_000:g}M"
    catalogue = data_dir / f"{label}x{days}-seed{seed}"
    if not (catalogue / "catalogue.json").exists():
        print(f"[{label}] generating {movies:,} movies x {days} days into {catalogue}", flush=True)
        generate(catalogue, movies, days, seed=seed, sample_dir=sample)
    work = out_dir / f"{label}x{days}-{history}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_path = work / "warehouse.duckdb"
    # Loading 1M x 30 takes minutes: load each (catalogue, history) once and build on copies.
    loaded = catalogue / f"bronze-{history}.duckdb"
    loaded_info = catalogue / f"bronze-{history}.json"
    if not loaded_info.exists():
        print(f"[{label}] loading bronze ({history} history) into {loaded}", flush=True)
        loaded.unlink(missing_ok=True)
        bronze = load_bronze(loaded, catalogue, history)
        load_providers(loaded, sample.parent / "providers")
        save_json(loaded_info, bronze)
    bronze = json.loads(loaded_info.read_text())
    shutil.copyfile(loaded, db_path)
    print(f"[{label}] {bronze['rows']:,} bronze rows (loaded in {bronze['seconds']} s); dbt parse", flush=True)
    run_dbt(["parse"], db_path, work, project)
    print(f"[{label}] dbt build", flush=True)
    launched = time.time()
    build = run_dbt(["build", "--select", DBT_SELECT], db_path, work, project)
    nodes = node_stats(db_path, work / "target")
    figures = {
        "label": label,
        "movies": movies,
        "days": days,
        "history": history,
        "bronze_rows": bronze["rows"],
        "bronze_payload_gib": round(bronze["payload_bytes"] / 1024**3, 2),
        "load_seconds": bronze["seconds"],
        "build_seconds": build["seconds"],
        "dbt_startup_seconds": startup_seconds(work / "target", launched),
        "peak_rss_gib": round(build["peak_rss_bytes"] / 1024**3, 2),
        "duckdb_file_gib_before": round(bronze["file_bytes"] / 1024**3, 2),
        "duckdb_file_gib_after": round(file_bytes(db_path) / 1024**3, 2),
        "fact_rows": next((n["rows"] for n in nodes if n["node"] == "gold.fact_movie_daily"), None),
        "nodes": nodes,
    }
    print(
        f"[{label}] build {figures['build_seconds']} s, peak RSS {figures['peak_rss_gib']} GiB, "
        f"file {figures['duckdb_file_gib_after']} GiB",
        flush=True,
    )
    if not keep:
        db_path.unlink(missing_ok=True)
    return figures


def report(runs: list[dict]) -> str:
    """Markdown tables: one line per size, growth against the smallest, slowest nodes of the largest."""
    base = runs[0]
    summary = []
    for run in runs:
        summary.append(
            {
                **run,
                "size_ratio": round(run["movies"] / base["movies"], 2),
                "time_ratio": round(run["build_seconds"] / base["build_seconds"], 2),
                "fact_rows_per_second": round(run["fact_rows"] / run["build_seconds"]) if run["fact_rows"] else None,
            }
        )
    lines = [
        markdown_table(
            summary,
            ["label", "days", "history", "bronze_rows", "bronze_payload_gib", "load_seconds", "build_seconds",
             "dbt_startup_seconds", "peak_rss_gib", "duckdb_file_gib_after", "size_ratio", "time_ratio"],
        ),
        "",
        f"Nodes of the {runs[-1]['label']} build, slowest first:",
        "",
        markdown_table(
            sorted(runs[-1]["nodes"], key=lambda n: -n["seconds"])[:15],
            ["node", "kind", "status", "seconds", "rows", "rows_per_second"],
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,300k,1M", help="comma-separated catalogue sizes")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--history", choices=("slim", "full"), default="slim")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--data", type=Path, default=RESULTS_DIR / "data", help="where generated catalogues live")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "transform")
    parser.add_argument("--keep", action="store_true", help="keep the bench DuckDB files")
    parser.add_argument("--project-dir", type=Path, default=DBT_PROJECT, help="dbt project to build (default: the repo's)")
    args = parser.parse_args(argv)
    # dbt runs in the project folder: every path it is given must be absolute.
    args.out, args.data, args.project_dir = args.out.resolve(), args.data.resolve(), args.project_dir.resolve()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    result = {"machine": machine_info(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": []}
    for movies in sizes:
        result["runs"].append(
            bench_size(
                movies, args.days, args.history, args.data, args.out, args.seed, args.keep, args.sample, args.project_dir
            )
        )
        save_json(args.out / f"transform-{args.history}.json", result)
    table = report(result["runs"])
    (args.out / f"transform-{args.history}.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
