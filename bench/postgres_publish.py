"""The PostgreSQL publication (``serving/postgres_publication``) of one published snapshot: a full
load, a daily load with every other day already there, and two dashboard queries against
PostgreSQL and against the DuckDB snapshot.

Starts a PostgreSQL cluster of its own on a free loopback port (``tests/support/postgres.py``,
the tests' cluster), then:

1. **full**: :func:`movie_assets.serving.postgres.publish_postgres` of the snapshot with no
   window (every table, every day of ``gold.fact_movie_daily``): wall seconds, rows loaded,
   rows per second;
2. **daily**: the same snapshot again with the window of its last day, as a daily run does:
   that day's fact partition is loaded, every other day's partition is kept. With ``--base``
   the full load publishes ``--base`` and the daily one ``--snapshot``: the snapshots before
   and after one daily run (``bench/daily.py --publish`` writes the pair), so the daily
   publication meets what a real next day changes, not a republication of the same build;
3. **queries**: what the dashboard runs (``movie_assets/serving/dashboard_queries.py``), each
   ``--rounds`` times through psycopg against PostgreSQL (as ``movies_reader``) and through
   DuckDB against the snapshot (read-only), median wall seconds including fetching every row.

Run (after a build with a snapshot, e.g. ``bench/transform.py --keep``)::

    cd bench
    ../.venv/bin/python transform.py --sizes 100k --days 30 --keep --out results/transform-pg
    ../.venv/bin/python postgres_publish.py --snapshot "$(ls results/transform-pg/100kx30-slim/serving/*.duckdb)"

At 1M movies with 30 days there, a real daily pair::

    ../.venv/bin/python daily.py --movies 1M --history 30 --publish --out results/daily-pg
    ../.venv/bin/python postgres_publish.py --pair results/daily-pg/daily.json

Writes ``bench/results/postgres_publish.json`` and prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import psycopg

from _common import REPO_ROOT, RESULTS_DIR, machine_info, markdown_table, save_json

sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))
from movie_assets.serving.postgres import READER_ROLE, publish_postgres  # noqa: E402
from movie_assets.transform.project import manifest_target_path  # noqa: E402
from support.postgres import running_postgres  # noqa: E402

DEFAULT_MANIFEST = REPO_ROOT / "dbt_project" / manifest_target_path("duckdb") / "manifest.json"
#: Two of the dashboard's queries: the top movies list and the genre popularity chart.
QUERIES = {
    "top movies": "SELECT * FROM gold.vw_top_movies ORDER BY popularity_rank LIMIT 100",
    "genre popularity": "SELECT * FROM gold.vw_genre_popularity ORDER BY avg_popularity DESC NULLS LAST, genre_name LIMIT 10",
}


def timed(function) -> tuple[float, object]:
    """``(wall seconds, result)`` of ``function()``."""
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def last_day(snapshot: Path) -> date:
    """The newest day of ``gold.fact_movie_daily`` in ``snapshot``."""
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        date_id = conn.execute("SELECT max(date_id) FROM gold.fact_movie_daily").fetchone()[0]
    return date(date_id // 10000, date_id // 100 % 100, date_id % 100)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, help="a published DuckDB snapshot")
    parser.add_argument("--base", type=Path, help="the snapshot before --snapshot's day, published in full first (default: --snapshot)")
    parser.add_argument("--pair", type=Path, help="daily.py --publish's daily.json: its first run's snapshots as --base and --snapshot")
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="dbt's manifest.json (keys and comments)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each query per engine")
    args = parser.parse_args(argv)
    if args.pair:
        run = json.loads(args.pair.read_text())["runs"][0]
        args.base, args.snapshot = Path(run["snapshot_before"]), Path(run["snapshot_after"])
    if args.snapshot is None:
        parser.error("give --snapshot or --pair")

    base = args.base or args.snapshot
    figures: dict = {"machine": machine_info(), "snapshot": str(args.snapshot), "base": str(base)}
    with running_postgres() as server:
        url = server.create_database("movies_bench")
        seconds, full = timed(lambda: publish_postgres(base, url, args.manifest, None, reader_password="bench"))
        figures["full"] = {"seconds": round(seconds, 2), "rows": full.loaded_rows, "rows_per_second": round(full.loaded_rows / seconds)}
        day = last_day(args.snapshot)
        seconds, daily = timed(lambda: publish_postgres(args.snapshot, url, args.manifest, [day]))
        figures["daily"] = {
            "seconds": round(seconds, 2),
            "rows": daily.loaded_rows,
            "days_loaded": len(daily.loaded_days),
            "days_kept": len(daily.reused_days),
            "tables_kept": len(daily.kept_tables),
            "partitions_kept": daily.kept_partitions,
            "validate_seconds": round(daily.validate_seconds, 3),
            "swap_seconds": round(daily.swap_seconds, 3),
        }
        reader_url = server.url("movies_bench", READER_ROLE)
        queries = []
        with psycopg.connect(reader_url) as pg, duckdb.connect(str(args.snapshot), read_only=True) as duck:
            for name, sql in QUERIES.items():
                pg_times = [timed(lambda sql=sql: pg.execute(sql).fetchall())[0] for _ in range(args.rounds)]
                duck_times = [timed(lambda sql=sql: duck.execute(sql).fetchall())[0] for _ in range(args.rounds)]
                pg_median, duck_median = statistics.median(pg_times), statistics.median(duck_times)
                queries.append(
                    {
                        "query": name,
                        "postgres_ms": round(pg_median * 1000, 1),
                        "duckdb_ms": round(duck_median * 1000, 1),
                        "ratio": round(pg_median / duck_median, 2),
                    }
                )
        figures["queries"] = queries
    save_json(RESULTS_DIR / "postgres_publish.json", figures)
    print(figures["full"], figures["daily"], sep="\n")
    print(markdown_table(queries, ["query", "postgres_ms", "duckdb_ms", "ratio"]))


if __name__ == "__main__":
    main()
