"""The movie history's share of a full rebuild: its models rebuilt alone, A/B between dbt projects.

``transform.py`` times the whole ``dbt build`` on two dbt threads, where the history's nodes
share the CPU with whatever runs beside them, so their node seconds move by several seconds
from run to run. This script rebuilds only the history's models
(``silver.tmdb_movie_attribute_snapshots``, ``gold.dim_movie_history``,
``gold.fct_movie_attribute_changes``, ``gold.rpt_changes_of_the_day``) with
``dbt run --full-refresh --threads 1`` on a fresh copy of a build file that ``transform.py
--keep`` left, over the same lake, once per ``--project-dir`` per pair, the projects
alternating (A B A B ...). Per run: wall seconds, the peak RSS of the dbt process tree, and
each node's seconds from ``run_results.json``; then, per project, the median of the nodes'
sum and its ratio to the first project's.

Run (1M movies x 30 days, the issue's size)::

    cd bench
    ../.venv/bin/python transform.py --sizes 1M --days 30 --keep --out results/transform-keep
    ../.venv/bin/python history_rebuild.py --build results/transform-keep/1Mx30-slim \\
        --lake results/data/1Mx30-seed42/lake-slim --project-dir /tmp/before/dbt_project --project-dir ../dbt_project --pairs 2

Results: ``--out`` (default ``results/history_rebuild``) ``history_rebuild.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path

from transform import DBT_PROJECT, gib, node_stats, run_dbt

from _common import RESULTS_DIR, machine_info, markdown_table, save_json

HISTORY_MODELS = ("tmdb_movie_attribute_snapshots", "dim_movie_history", "fct_movie_attribute_changes", "rpt_changes_of_the_day")


def rebuild(build_dir: Path, lake: Path, project: Path, work: Path, memory_limit: str) -> dict:
    """One ``dbt run --full-refresh --threads 1`` of :data:`HISTORY_MODELS` on a copy of
    ``build_dir``'s build file (under ``work``, deleted after): wall seconds, peak RSS (GiB)
    and per-node seconds."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    copy = work / "warehouse.duckdb"
    shutil.copyfile(build_dir / "build" / "warehouse.duckdb", copy)
    dbt_vars = {"duckdb_path": str(copy), "lake_dir": str(lake), "memory_limit": memory_limit}
    run = run_dbt(["run", "--full-refresh", "--threads", "1", "--select", *HISTORY_MODELS], dbt_vars, work, project)
    nodes = {stat["node"]: stat["seconds"] for stat in node_stats(copy, work / "target")}
    copy.unlink()
    return {"seconds": run["seconds"], "peak_rss_gib": gib(run["peak_rss_bytes"]), "nodes": nodes, "node_seconds": round(sum(nodes.values()), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, required=True, help="a transform.py --keep size folder, e.g. results/transform-keep/1Mx30-slim")
    parser.add_argument("--lake", type=Path, required=True, help="the lake that build was made from, e.g. results/data/1Mx30-seed42/lake-slim")
    parser.add_argument("--project-dir", type=Path, action="append", help="dbt project (repeat for A/B; default: the repo's)")
    parser.add_argument("--pairs", type=int, default=2, help="rounds of one run per project")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit of dbt (the product's default)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "history_rebuild")
    args = parser.parse_args()
    projects = [path.resolve() for path in args.project_dir or [DBT_PROJECT]]
    build_dir, out = args.build.resolve(), args.out.resolve()
    lake = args.lake.resolve()
    runs = []
    for pair in range(1, args.pairs + 1):
        for index, project in enumerate(projects):
            label = f"{index}:{project}"
            result = rebuild(build_dir, lake, project, out / f"run-{pair}-{index}", args.memory_limit)
            runs.append({"project": label, "pair": pair, **result})
            print(f"[{label} pair {pair}] {result['node_seconds']} node-s, {result['seconds']} s wall, {result['nodes']}", flush=True)
    summary = []
    for index, project in enumerate(projects):
        label = f"{index}:{project}"
        mine = [run for run in runs if run["project"] == label]
        summary.append({"project": label, "median_node_seconds": statistics.median(run["node_seconds"] for run in mine)})
    for row in summary:
        row["ratio_to_first"] = round(row["median_node_seconds"] / summary[0]["median_node_seconds"], 3)
    save_json(out / "history_rebuild.json", {"machine": machine_info(), "build": str(build_dir), "runs": runs, "summary": summary})
    table = markdown_table(summary, ["project", "median_node_seconds", "ratio_to_first"])
    (out / "history_rebuild.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
