"""Publish cost on the sample: :func:`publish_snapshot` of a sample-sized build, against that build.

The sample run's data without Dagster (whose ``daily_refresh`` job is what
``bench/end_to_end.py`` times): one daily partition of ``bronze.tmdb_movies`` holding the
bodies of the analyst's ID list (``$MOVIES_INPUT_DIR/ids/movies.csv``, parsed by the
product's :func:`parse_id_list`) that the TMDB snapshot has, with their credits appended as
``append_to_response=credits`` would; the ID list's rejected rows as that day's dead letters;
and the real provider deliveries, all landed in a lake under ``--out``. Then it runs
``dbt build`` of the whole project into a fresh build file (the vars the product passes) and
publishes that build ``--repeats`` times into a serving folder (``keep`` 1, as a daily run
would), timing each publication.

Run::

    .venv/bin/python bench/publish_sample.py          # about a minute; bench/results/publish_sample/
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from transform import DBT_EXCLUDE, RUN_ID, TMDB_SOURCE, land_providers, run_dbt

from _common import REPO_ROOT, RESULTS_DIR, Stopwatch, file_bytes, machine_info, markdown_table, save_json

sys.path.insert(0, str(REPO_ROOT))
from movie_assets.serving.publish import publish_snapshot  # noqa: E402
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE  # noqa: E402
from movie_assets.tmdb.dead_letters import DEAD_LETTER_TABLE, DeadLetter, dead_letter_rows  # noqa: E402
from movie_assets.tmdb.id_list import parse_id_list  # noqa: E402
from movie_assets.warehouse.lake import Lake  # noqa: E402

PARTITION_DATE = "2026-11-20"


def land_sample(lake: Lake, input_dir: Path, partition_date: str) -> int:
    """Land the sample's day in ``lake``: the ID list's movies found in the TMDB snapshot
    (credits appended when the snapshot has them), its rejected rows as dead letters, and the
    provider deliveries.

    Returns:
        TMDB rows landed.

    Raises:
        FileNotFoundError: a sample file is missing.
    """
    id_list = parse_id_list(input_dir / "ids" / "movies.csv")
    tmdb = input_dir / "tmdb"
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("CREATE TABLE wanted (movie_id BIGINT)")
        conn.executemany("INSERT INTO wanted VALUES (?)", [[movie_id] for movie_id in id_list.ids])
        rows = conn.sql(
            "WITH movies AS (SELECT json AS body, (json ->> 'id')::BIGINT AS movie_id "
            f"FROM read_json_objects('{tmdb / 'movies.jsonl.gz'}')), "
            "credits AS (SELECT (json ->> 'id')::BIGINT AS movie_id, "
            "json_object('cast', json -> 'cast', 'crew', json -> 'crew') AS credits "
            f"FROM read_json_objects('{tmdb / 'credits.jsonl.gz'}')) "
            "SELECT m.movie_id, (CASE WHEN c.credits IS NULL THEN m.body "
            "ELSE json_merge_patch(m.body, json_object('credits', c.credits)) END)::VARCHAR AS payload, "
            "CAST(?::DATE + INTERVAL 6 HOUR AS TIMESTAMPTZ) AS fetched_at, "
            f"'{RUN_ID}' AS run_id, CAST(200 AS INTEGER) AS http_status, "
            "'/3/movie/' || m.movie_id || '?append_to_response=credits' AS request_path, "
            f"'{TMDB_SOURCE}' AS tmdb_source "
            "FROM wanted JOIN movies AS m USING (movie_id) LEFT JOIN credits AS c USING (movie_id) "
            "ORDER BY m.movie_id",
            params=[partition_date],
        ).to_arrow_table()
    lake.write_partition(TMDB_MOVIES_TABLE, partition_date, rows)
    letters = [DeadLetter.from_rejected_id(rejected) for rejected in id_list.rejected]
    lake.write_partition(DEAD_LETTER_TABLE, partition_date, dead_letter_rows(letters, partition_date, RUN_ID))
    land_providers(lake, input_dir / "providers")
    return rows.num_rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "publish_sample")
    parser.add_argument("--repeats", type=int, default=5, help="publications of the same build")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit of dbt (the product's default)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    # dbt runs in the project folder: every path it is given must be absolute.
    out = args.out.resolve()
    work = out / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lake = Lake(work / "lake")
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    movies = land_sample(lake, args.input_dir, PARTITION_DATE)
    build_path = work / "build" / "warehouse.duckdb"
    build_path.parent.mkdir()
    dbt_vars = {"duckdb_path": str(build_path), "lake_dir": str(lake.root), "memory_limit": args.memory_limit}
    run_dbt(["parse"], dbt_vars, work)
    build = run_dbt(["build", *DBT_EXCLUDE], dbt_vars, work)
    publications = []
    for attempt in range(args.repeats):
        with Stopwatch() as watch:
            publication = publish_snapshot(
                build_path,
                lake,
                work / "serving",
                work / "warehouse.duckdb",
                keep=1,
                run_id=f"{RUN_ID}-{attempt}",
                partition_date=PARTITION_DATE,
                tmdb_source=TMDB_SOURCE,
            )
        publications.append({"seconds": watch.seconds, "snapshot_bytes": file_bytes(publication.snapshot)})
        print(f"publication {attempt + 1}: {watch.seconds} s", flush=True)
    seconds = [p["seconds"] for p in publications]
    median = statistics.median(seconds)
    figures = {
        "tmdb_movies": movies,
        "tables": len(publication.row_counts),
        "rows": sum(publication.row_counts.values()),
        "build_file_mib": round(file_bytes(build_path) / 1024**2, 1),
        "snapshot_mib": round(publications[-1]["snapshot_bytes"] / 1024**2, 1),
        "dbt_build_seconds": build["seconds"],
        "publish_median_seconds": median,
        "publish_min_seconds": min(seconds),
        "publish_max_seconds": max(seconds),
        "publish_share_of_build_and_publish": round(median / (build["seconds"] + median), 3),
    }
    result = {
        "machine": machine_info(),
        "started": started,
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": figures,
        "publications": publications,
    }
    save_json(out / "publish_sample.json", result)
    table = markdown_table([figures], list(figures))
    (out / "publish_sample.md").write_text(table + "\n")
    print(table)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
