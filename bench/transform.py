"""Transform benchmark: bronze in the lake, ``dbt build`` of silver and gold, and the publish, at scale.

For each size (default 100k, 300k and 1M movies, 30 days each) it

1. generates the catalogue with :mod:`generate` unless it is already in ``--data``;
2. lands bronze beside the catalogue (once per catalogue and history; later runs reuse it):
   each day's ``bronze.tmdb_movies`` rows are built in memory, then written to the lake with
   the product's :meth:`Lake.write_partition` (one zstd Parquet file per day) and, for the
   comparison with how bronze was stored before the storage tiers, inserted into
   ``bronze.tmdb_movies`` of a DuckDB file with the old loader (delete and insert of the day, one
   transaction per day); each sink is timed on its own and its size on disk measured. Every
   day also gets an empty dead-letter partition, and the real sample's provider deliveries
   land as the lake's current deliveries (they do not scale);
3. times two reads of each bronze store (every run, DuckDB ``memory_limit`` as dbt's): the
   latest fetch per movie (``max(partition_date)`` per movie, what
   ``silver.tmdb_latest_bodies`` starts from) and a scan of every payload byte;
4. runs ``dbt parse`` (not timed: it warms partial parsing the way a deployed project has a
   manifest), then times ``dbt build`` of every model and test fed by
   ``source:bronze.tmdb_movies`` (and what those read) as a child process, with the vars the
   product passes (``duckdb_path`` a fresh build file under ``--out``, ``lake_dir``,
   ``memory_limit``), sampling the peak RSS of the whole process tree every 50 ms;
5. reads dbt's ``run_results.json`` for per-node times and counts each table's rows, giving
   rows/second per model; reports the build file's size;
6. times :func:`publish_snapshot` of that build (in this process, as the Dagster step runs it)
   into a serving folder under ``--out`` and reports its wall and CPU seconds, the 1-minute
   load average just after (other processes' load), the snapshot's size and this process's
   peak RSS while publishing.

With ``--engine spark`` each size is also built on Spark (dbt-spark, ``method: session``,
``spark.master`` ``--spark-master``, default ``local[2]``) from the same lake, with the same
selection, right after the DuckDB build: its wall seconds, the peak RSS of the dbt process
tree (the JVM that pyspark starts included), the ratio to the DuckDB build, and the seconds
of copying its Parquet tables into a DuckDB file as the pipeline does after a Spark build
(:func:`movie_assets.transform.spark_tables.copy_spark_table`).

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
    .venv/bin/python bench/transform.py --sizes 100k,1M --days 30 --engine spark
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.compute as pc
from generate import DEFAULT_SAMPLE, generate, parse_size

from _common import GIB, REPO_ROOT, RESULTS_DIR, PeakRSS, Stopwatch, file_bytes, machine_info, markdown_table, save_json

sys.path.insert(0, str(REPO_ROOT))
from movie_assets.serving.publish import publish_snapshot  # noqa: E402
from movie_assets.tmdb.assets import TMDB_MOVIES_SCHEMA, TMDB_MOVIES_TABLE  # noqa: E402
from movie_assets.tmdb.dead_letters import DEAD_LETTER_TABLE, dead_letter_rows  # noqa: E402
from movie_assets.transform.project import child_environment  # noqa: E402
from movie_assets.transform.spark_tables import copy_spark_table  # noqa: E402
from movie_assets.warehouse.lake import Lake, schema_ddl  # noqa: E402


def replace_day_in_duckdb(conn: duckdb.DuckDBPyConnection, rows, day: str) -> None:
    """How bronze was loaded before the lake, kept here as the comparison: delete the day from
    ``bronze.tmdb_movies`` and insert its rows, in one transaction."""
    columns = ", ".join(f'"{name}"' for name in rows.column_names)
    conn.execute("BEGIN TRANSACTION")
    conn.execute(f"DELETE FROM {TMDB_MOVIES_TABLE} WHERE partition_date = ?", [day])
    conn.register("incoming_rows", rows)
    conn.execute(f"INSERT INTO {TMDB_MOVIES_TABLE} ({columns}) SELECT {columns} FROM incoming_rows")
    conn.unregister("incoming_rows")
    conn.execute("COMMIT")


DBT_PROJECT = REPO_ROOT / "dbt_project"
# Every model fed by the TMDB bronze table plus everything those models read ("@"), so the
# models that join TMDB with the provider deliveries are built (and timed) too.
DBT_SELECT = "@source:bronze.tmdb_movies"
# Unit tests run on a few fixture rows, so they cost nothing at scale; and with bronze external,
# dbt can only read a source fixture's columns from the build file when the fixture is given
# as SQL, so the bench times models and data tests only.
DBT_EXCLUDE = ["--exclude-resource-type", "unit_test"]
SLIM_FIELDS = ("popularity", "vote_average", "vote_count")
RUN_ID = "bench"
TMDB_SOURCE = "snapshot"
# The provider deliveries silver joins, as movie_assets/providers/assets.py defines them
# (table: file under providers/, columns in table order). Written here with DuckDB's readers so
# the bench does not follow the provider loader's API; a column the file lacks is NULL.
PROVIDER_DELIVERIES = {
    "critic_agg": (
        "critic_agg.csv",
        (
            "Movie Title",
            "Release Year",
            "IMDb ID",
            "Tomatometer",
            "Critic Reviews",
            "Fresh",
            "Rotten",
            "Average Critic Score",
            "Metascore",
            "Studio",
            "Box Office (USD)",
        ),
    ),
    "audience_pulse": (
        "audience_pulse.json",
        (
            "title",
            "year",
            "imdb_id",
            "rated",
            "imdb_rating",
            "imdb_votes",
            "ratings",
            "genre",
            "language",
            "country",
        ),
    ),
    "box_office_domestic": ("box_office/domestic.csv", ("Title", "Release Date", "US Gross")),
    "box_office_international": (
        "box_office/international.csv",
        ("Title", "Release Date", "Worldwide Gross", "International Gross"),
    ),
    "box_office_financials": (
        "box_office/financials.csv",
        (
            "Title",
            "Release Date",
            "Production Budget",
            "US DVD Sales",
            "Distributor",
            "MPAA Rating",
            "Running Time min",
            "Major Genre",
            "Creative Type",
            "Source",
            "Director",
        ),
    ),
}
READS = {
    # silver.tmdb_latest_bodies' first step: each movie's latest fetch.
    "latest": "SELECT count(*), max(latest) FROM (SELECT movie_id, max(partition_date) AS latest FROM {source} GROUP BY movie_id)",
    # Every payload byte, as the snapshot table's parse must read them.
    "scan": "SELECT count(*), sum(strlen(payload::VARCHAR)) FROM {source}",
}


def dbt_executable() -> str:
    """The venv's ``dbt`` (beside this interpreter)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def land_providers(lake: Lake, providers_dir: Path) -> int:
    """Land the real sample's provider files in ``lake`` as current deliveries, every column
    VARCHAR (``ratings`` as JSON text) plus the audit columns the provider assets add.

    Returns:
        rows landed across the provider tables.

    Raises:
        FileNotFoundError: a provider file is missing.
    """
    total = 0
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table, (relative, columns) in PROVIDER_DELIVERIES.items():
            path = providers_dir / relative
            sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            if path.suffix == ".json":
                # One JSON value per array element: ->> gives scalars as text, -> keeps lists as JSON.
                source = f"(SELECT json AS element FROM read_json_objects('{path}', format = 'array'))"
                values = [f"(element -> '{c}')::VARCHAR" if c == "ratings" else f"element ->> '{c}'" for c in columns]
            else:
                source = f"read_csv('{path}', all_varchar = true, header = true)"
                found = {row[0] for row in conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
                values = [f'"{c}"' if c in found else "NULL::VARCHAR" for c in columns]
            selected = ", ".join(f'{value} AS "{column}"' for value, column in zip(values, columns, strict=True))
            rows = conn.sql(
                f"SELECT {selected}, 'providers/{relative}' AS source_file, '{sha256}' AS file_sha256, "
                "row_number() OVER () AS source_row_number, now() AS loaded_at "
                f"FROM {source}"
            ).to_arrow_table()
            lake.write_delivery(table, sha256, rows)
            total += rows.num_rows
    return total


def day_rows_sql(details: Path, daily: Path, history: str, newest: bool) -> str:
    """SQL for one day's ``bronze.tmdb_movies`` rows (``?`` = the day), in the columns and
    types the bronze asset writes: ``fetched_at`` 06:00 UTC of the day plus a few seconds,
    run_id ``bench``, http_status 200, request_path ``/3/movie/{id}``, tmdb_source ``snapshot``.

    Raises:
        ValueError: ``history`` is not ``slim`` or ``full``.
    """
    if history not in ("slim", "full"):
        raise ValueError(f"history must be 'slim' or 'full', got {history!r}")
    audit = (
        "CAST(d.partition_date + INTERVAL 6 HOUR + to_seconds(d.movie_id % 3600) AS TIMESTAMPTZ) AS fetched_at, "
        f"d.partition_date, '{RUN_ID}' AS run_id, CAST(200 AS INTEGER) AS http_status, "
        f"'/3/movie/' || d.movie_id AS request_path, '{TMDB_SOURCE}' AS tmdb_source"
    )
    if newest:
        return (
            f"SELECT d.movie_id, d.payload::VARCHAR AS payload, {audit} "
            f"FROM (SELECT movie_id, payload, ?::DATE AS partition_date FROM read_parquet('{details}')) AS d "
            "ORDER BY d.movie_id"
        )
    observation = "json_object('id', d.movie_id, " + ", ".join(f"'{f}', d.{f}" for f in SLIM_FIELDS) + ")"
    if history == "slim":
        payload = observation.replace("d.movie_id, ", "d.movie_id, 'title', t.title, ", 1)
        details_side = "titles"
    else:
        payload = f"json_merge_patch(t.payload, {observation})"
        details_side = f"read_parquet('{details}')"
    return (
        f"SELECT d.movie_id, ({payload})::VARCHAR AS payload, {audit} "
        f"FROM read_parquet('{daily}') AS d JOIN {details_side} AS t USING (movie_id) "
        "WHERE d.partition_date = ?::DATE ORDER BY d.movie_id"
    )


def land_bronze(lake: Lake, db_path: Path, catalogue: Path, history: str = "slim") -> dict:
    """Land a generated catalogue's ``bronze.tmdb_movies`` day by day, twice: as the lake's
    daily Parquet partitions and into a DuckDB table (the storage before the lake).

    Each day's rows are built once in memory (not timed: they stand for the API's answers),
    then written by each sink, which is timed alone. Rows: every movie on the newest day
    with its full body, plus one row per movie per older day (``history``, see the module
    docstring). Every day also gets an empty ``bronze.tmdb_dead_letter`` partition, as a run
    without failures leaves.

    Returns:
        rows, payload bytes, and per store (``parquet``, ``duckdb``) the write seconds and
        bytes on disk (Parquet: the tmdb_movies files; DuckDB: file plus WAL after a CHECKPOINT).

    Raises:
        FileNotFoundError: the catalogue's parquet files are missing.
        ValueError: ``history`` is not ``slim`` or ``full``.
    """
    details, daily = catalogue / "details.parquet", catalogue / "daily.parquet"
    for path in (details, daily):
        if not path.exists():
            raise FileNotFoundError(f"catalogue file missing: {path} (run bench/generate.py)")
    info = json.loads((catalogue / "catalogue.json").read_text())
    newest = date.fromisoformat(info["end_date"])
    days = [(newest - timedelta(days=back)).isoformat() for back in range(info["days"] - 1, -1, -1)]
    rows = payload_bytes = 0
    parquet_seconds = duckdb_seconds = 0.0
    with duckdb.connect() as source, duckdb.connect(str(db_path)) as warehouse:
        source.execute("SET TimeZone = 'UTC'")
        # The title is read once a movie here, not once a movie a day in the join.
        source.execute(f"CREATE TABLE titles AS SELECT movie_id, payload ->> '$.title' AS title FROM read_parquet('{details}')")
        warehouse.execute("CREATE SCHEMA IF NOT EXISTS bronze")
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {TMDB_MOVIES_TABLE} ({schema_ddl(TMDB_MOVIES_SCHEMA)})")
        for day in days:
            sql = day_rows_sql(details, daily, history, newest=day == days[-1])
            day_rows = source.sql(sql, params=[day]).to_arrow_table()
            rows += day_rows.num_rows
            payload_bytes += pc.sum(pc.binary_length(day_rows["payload"])).as_py() or 0
            with Stopwatch() as watch:
                lake.write_partition(TMDB_MOVIES_TABLE, day, day_rows)
            parquet_seconds += watch.seconds
            with Stopwatch() as watch:
                replace_day_in_duckdb(warehouse, day_rows, day)
            duckdb_seconds += watch.seconds
            lake.write_partition(DEAD_LETTER_TABLE, day, dead_letter_rows([], day, RUN_ID))
            print(f"  bronze {day}: {day_rows.num_rows:,} rows", flush=True)
        with Stopwatch() as watch:
            warehouse.execute("CHECKPOINT")
        duckdb_seconds += watch.seconds
    parquet_bytes = sum(path.stat().st_size for path in lake.table_dir(TMDB_MOVIES_TABLE).rglob("*.parquet"))
    return {
        "rows": rows,
        "days": len(days),
        "payload_bytes": int(payload_bytes),
        "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "parquet": {"write_seconds": round(parquet_seconds, 3), "bytes": parquet_bytes},
        "duckdb": {"write_seconds": round(duckdb_seconds, 3), "bytes": file_bytes(db_path)},
    }


def time_reads(lake: Lake, db_path: Path, memory_limit: str) -> dict:
    """Seconds of each query of :data:`READS` on each bronze store, each in a fresh connection
    with ``memory_limit``: the lake through the same ``read_parquet`` as dbt's source, the
    DuckDB file opened read-only. Both stores were just written or read, so their files are
    in the OS page cache: these are warm reads.

    Returns:
        ``{"parquet": {"latest": s, "scan": s}, "duckdb": {...}}``.

    Raises:
        RuntimeError: the two stores answer a query differently.
    """
    stores = {
        "parquet": (lambda: duckdb.connect(), lake.scan(TMDB_MOVIES_TABLE)),
        "duckdb": (lambda: duckdb.connect(str(db_path), read_only=True), TMDB_MOVIES_TABLE),
    }
    seconds: dict[str, dict[str, float]] = {store: {} for store in stores}
    for name, query in READS.items():
        answers = {}
        for store, (connect, source) in stores.items():
            with connect() as conn:
                conn.execute(f"SET memory_limit = '{memory_limit}'")
                with Stopwatch() as watch:
                    answers[store] = conn.execute(query.format(source=source)).fetchone()
            seconds[store][name] = watch.seconds
        if answers["parquet"] != answers["duckdb"]:
            raise RuntimeError(f"read {name!r} differs between the stores: {answers}")
    return seconds


def run_dbt(command: list[str], dbt_vars: dict[str, str], work: Path, project: Path = DBT_PROJECT, window: dict[str, str] | None = None) -> dict:
    """Run ``dbt <command>`` in ``project`` with ``--vars dbt_vars`` and the partition
    ``window`` (``{"min_date", "max_date"}``, as the Dagster steps pass it; None for every
    day), target and logs under ``work``.

    Returns:
        wall seconds, peak RSS of the dbt process tree (bytes), and the path of
        ``run_results.json``.

    Raises:
        RuntimeError: dbt could not start, or exited with an error (message holds the log tail).
    """
    args = [
        dbt_executable(),
        *command,
        "--vars",
        json.dumps(dbt_vars),
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    work.mkdir(parents=True, exist_ok=True)
    log = (work / f"dbt_{command[0]}.log").open("w")
    started = time.monotonic()
    env = child_environment(window)
    process = subprocess.Popen(args, cwd=project, stdout=log, stderr=subprocess.STDOUT, env=env)
    with PeakRSS(process.pid) as rss:
        code = process.wait()
    wall = round(time.monotonic() - started, 3)
    log.close()
    if code != 0:
        tail = (work / f"dbt_{command[0]}.log").read_text()[-3000:]
        raise RuntimeError(f"dbt {' '.join(command)} exited {code} with vars {dbt_vars}:\n{tail}")
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


def bench_spark(lake: Lake, work: Path, project: Path, duckdb_build: dict, duckdb_nodes: list[dict], master: str, driver_memory: str) -> dict:
    """The same ``dbt build`` on Spark, then the copy of its tables into a DuckDB file; figures
    beside the DuckDB build's (``duckdb_build``: :func:`run_dbt`'s result)."""
    spark_work = work / "spark"
    spark_work.mkdir()
    warehouse = spark_work / "warehouse"
    dbt_vars = {
        "engine": "spark",
        "lake_dir": str(lake.root),
        "spark_warehouse": str(warehouse),
        "spark_master": master,
        "spark_driver_memory": driver_memory,
    }
    run_dbt(["parse"], dbt_vars, spark_work, project)
    build = run_dbt(["build", "--select", DBT_SELECT, *DBT_EXCLUDE], dbt_vars, spark_work, project)
    tables = [node["node"] for node in duckdb_nodes if node["kind"] in ("table", "incremental", "view")]
    with Stopwatch() as copy_watch, duckdb.connect(str(spark_work / "copy.duckdb")) as conn:
        for relation in tables:
            copy_spark_table(conn, warehouse, relation)
    return {
        "spark_master": master,
        "spark_driver_memory": driver_memory,
        "spark_build_seconds": build["seconds"],
        "spark_peak_rss_gib": gib(build["peak_rss_bytes"]),
        "spark_to_duckdb_build_ratio": round(build["seconds"] / duckdb_build["seconds"], 2),
        "spark_to_duckdb_rss_ratio": round(build["peak_rss_bytes"] / duckdb_build["peak_rss_bytes"], 2),
        "spark_copy_seconds": copy_watch.seconds,
        "spark_tables_copied": len(tables),
    }


def gib(size: int) -> float:
    """Bytes as GiB, two decimals."""
    return round(size / GIB, 2)


def size_label(movies: int) -> str:
    """``100000`` → ``100k``, ``1000000`` → ``1M``: the catalogue's name in folders and reports."""
    return f"{movies // 1000}k" if movies < 1_000_000 else f"{movies / 1_000_000:g}M"


def landed_catalogue(
    movies: int, days: int, history: str, data_dir: Path, seed: int = 42, sample: Path = DEFAULT_SAMPLE
) -> tuple[str, Path, Lake, Path, dict]:
    """The catalogue of ``movies`` x ``days`` under ``data_dir``, generated and landed unless it
    already is (landing 1M x 30 takes minutes: each (catalogue, history) is landed once and
    builds only read it, so callers must not write into the returned lake).

    Returns:
        ``(label, catalogue folder, lake, DuckDB bronze file, landing figures)``; the figures
        are :func:`land_bronze`'s plus ``provider_rows``.

    Raises:
        FileNotFoundError: the sample or its provider files are missing.
    """
    label = size_label(movies)
    catalogue = data_dir / f"{label}x{days}-seed{seed}"
    if not (catalogue / "catalogue.json").exists():
        print(f"[{label}] generating {movies:,} movies x {days} days into {catalogue}", flush=True)
        generate(catalogue, movies, days, seed=seed, sample_dir=sample)
    lake = Lake(catalogue / f"lake-{history}")
    bronze_db = catalogue / f"bronze-{history}.duckdb"
    landed_info = catalogue / f"lake-{history}.json"
    if not landed_info.exists():
        print(f"[{label}] landing bronze ({history} history) in {lake.root} and {bronze_db}", flush=True)
        shutil.rmtree(lake.root, ignore_errors=True)
        bronze_db.unlink(missing_ok=True)
        landed = land_bronze(lake, bronze_db, catalogue, history)
        landed["provider_rows"] = land_providers(lake, sample.parent / "providers")
        save_json(landed_info, landed)
    return label, catalogue, lake, bronze_db, json.loads(landed_info.read_text())


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
    memory_limit: str = "3GB",
    spark: dict[str, str] | None = None,
) -> dict:
    """Generate (if needed), land, read, build and publish one catalogue size, and build it on
    Spark too when ``spark`` (``{"master": ..., "driver_memory": ...}``) is given; returns its figures."""
    label, catalogue, lake, bronze_db, bronze = landed_catalogue(movies, days, history, data_dir, seed, sample)
    print(f"[{label}] {bronze['rows']:,} bronze rows (landed {bronze['loaded_at']}); reads", flush=True)
    reads = time_reads(lake, bronze_db, memory_limit)

    work = out_dir / f"{label}x{days}-{history}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    build_path = work / "build" / "warehouse.duckdb"
    build_path.parent.mkdir()
    dbt_vars = {"duckdb_path": str(build_path), "lake_dir": str(lake.root), "memory_limit": memory_limit}
    print(f"[{label}] dbt parse", flush=True)
    run_dbt(["parse"], dbt_vars, work, project)
    print(f"[{label}] dbt build", flush=True)
    launched = time.time()
    build = run_dbt(["build", "--select", DBT_SELECT, *DBT_EXCLUDE], dbt_vars, work, project)
    nodes = node_stats(build_path, work / "target")

    spark_figures = {}
    if spark:
        print(f"[{label}] dbt build on Spark ({spark['master']})", flush=True)
        spark_figures = bench_spark(lake, work, project, build, nodes, spark["master"], spark["driver_memory"])

    print(f"[{label}] publish", flush=True)
    newest = json.loads((catalogue / "catalogue.json").read_text())["end_date"]
    # CPU seconds (all of this process's threads) as well as wall: on a shared machine the wall
    # time depends on the other load, CPU time is the steadier measure of the copy's work.
    cpu_before = time.process_time()
    with PeakRSS() as publish_rss, Stopwatch() as publish_watch:
        publication = publish_snapshot(
            build_path,
            lake,
            work / "serving",
            work / "warehouse.duckdb",
            keep=1,
            run_id=RUN_ID,
            partition_date=newest,
            tmdb_source=TMDB_SOURCE,
        )
    publish_cpu_seconds = round(time.process_time() - cpu_before, 3)
    figures = {
        "label": label,
        "movies": movies,
        "days": days,
        "history": history,
        "bronze_rows": bronze["rows"],
        "bronze_payload_gib": gib(bronze["payload_bytes"]),
        "bronze_landed_at": bronze["loaded_at"],
        "parquet_write_seconds": bronze["parquet"]["write_seconds"],
        "parquet_gib": gib(bronze["parquet"]["bytes"]),
        "duckdb_load_seconds": bronze["duckdb"]["write_seconds"],
        "duckdb_gib": gib(bronze["duckdb"]["bytes"]),
        "parquet_latest_read_seconds": reads["parquet"]["latest"],
        "duckdb_latest_read_seconds": reads["duckdb"]["latest"],
        "parquet_scan_read_seconds": reads["parquet"]["scan"],
        "duckdb_scan_read_seconds": reads["duckdb"]["scan"],
        "build_seconds": build["seconds"],
        "dbt_startup_seconds": startup_seconds(work / "target", launched),
        "peak_rss_gib": gib(build["peak_rss_bytes"]),
        "build_file_gib": gib(file_bytes(build_path)),
        "publish_seconds": publish_watch.seconds,
        "publish_cpu_seconds": publish_cpu_seconds,
        "load_average_1m_at_publish": round(os.getloadavg()[0], 2),
        "publish_peak_rss_gib": gib(publish_rss.peak_bytes),
        "snapshot_gib": gib(file_bytes(publication.snapshot)),
        "snapshot_tables": len(publication.row_counts),
        "snapshot_rows": sum(publication.row_counts.values()),
        "fact_rows": next((n["rows"] for n in nodes if n["node"] == "gold.fact_movie_daily"), None),
        **spark_figures,
        "nodes": nodes,
    }
    print(
        f"[{label}] build {figures['build_seconds']} s, peak RSS {figures['peak_rss_gib']} GiB, "
        f"build file {figures['build_file_gib']} GiB; publish {figures['publish_seconds']} s, "
        f"snapshot {figures['snapshot_gib']} GiB",
        flush=True,
    )
    if spark_figures:
        print(
            f"[{label}] Spark build {spark_figures['spark_build_seconds']} s "
            f"({spark_figures['spark_to_duckdb_build_ratio']}x DuckDB), peak RSS {spark_figures['spark_peak_rss_gib']} GiB, "
            f"copy to DuckDB {spark_figures['spark_copy_seconds']} s",
            flush=True,
        )
    if not keep:
        # The Spark run's target/ (run_results.json: per-node seconds) stays, like the DuckDB build's.
        shutil.rmtree(work / "spark" / "warehouse", ignore_errors=True)
        (work / "spark" / "copy.duckdb").unlink(missing_ok=True)
        shutil.rmtree(work / "build")
        shutil.rmtree(work / "serving")
        (work / "warehouse.duckdb").unlink()
    return figures


def report(runs: list[dict]) -> str:
    """Markdown tables: bronze stores, build and publish per size (growth against the
    smallest), slowest nodes of the largest."""
    base = runs[0]
    summary = []
    for run in runs:
        summary.append(
            {
                **run,
                "size_ratio": round(run["movies"] / base["movies"], 2),
                "time_ratio": round(run["build_seconds"] / base["build_seconds"], 2),
                "publish_ratio": round(run["publish_seconds"] / base["publish_seconds"], 2),
            }
        )
    lines = [
        "Bronze stores (write: this catalogue's landing; reads: this run, warm):",
        "",
        markdown_table(
            summary,
            [
                "label",
                "days",
                "history",
                "bronze_rows",
                "bronze_payload_gib",
                "parquet_write_seconds",
                "parquet_gib",
                "duckdb_load_seconds",
                "duckdb_gib",
                "parquet_latest_read_seconds",
                "duckdb_latest_read_seconds",
                "parquet_scan_read_seconds",
                "duckdb_scan_read_seconds",
            ],
        ),
        "",
        "Build and publish:",
        "",
        markdown_table(
            summary,
            [
                "label",
                "build_seconds",
                "dbt_startup_seconds",
                "peak_rss_gib",
                "build_file_gib",
                "publish_seconds",
                "publish_cpu_seconds",
                "load_average_1m_at_publish",
                "publish_peak_rss_gib",
                "snapshot_gib",
                "size_ratio",
                "time_ratio",
                "publish_ratio",
            ],
        ),
        *(
            [
                "",
                "Spark engine beside DuckDB (same lake, same selection):",
                "",
                markdown_table(
                    summary,
                    [
                        "label",
                        "spark_master",
                        "spark_driver_memory",
                        "build_seconds",
                        "spark_build_seconds",
                        "spark_to_duckdb_build_ratio",
                        "peak_rss_gib",
                        "spark_peak_rss_gib",
                        "spark_to_duckdb_rss_ratio",
                        "spark_copy_seconds",
                    ],
                ),
            ]
            if "spark_build_seconds" in base
            else []
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
    parser.add_argument("--keep", action="store_true", help="keep the build file and the snapshot")
    parser.add_argument("--project-dir", type=Path, default=DBT_PROJECT, help="dbt project to build (default: the repo's)")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit of dbt and the reads (the product's default)")
    parser.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="spark: also build each size on Spark beside the DuckDB build and report the ratio",
    )
    parser.add_argument("--spark-master", default="local[2]", help="spark.master of the Spark build")
    parser.add_argument("--spark-driver-memory", default="4g", help="spark.driver.memory of the Spark build")
    args = parser.parse_args(argv)
    spark = {"master": args.spark_master, "driver_memory": args.spark_driver_memory} if args.engine == "spark" else None
    # dbt runs in the project folder: every path it is given must be absolute.
    args.out, args.data, args.project_dir = args.out.resolve(), args.data.resolve(), args.project_dir.resolve()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    result = {"machine": machine_info(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": []}
    for movies in sizes:
        result["runs"].append(
            bench_size(
                movies,
                args.days,
                args.history,
                args.data,
                args.out,
                args.seed,
                args.keep,
                args.sample,
                args.project_dir,
                args.memory_limit,
                spark,
            )
        )
        save_json(args.out / f"transform-{args.history}.json", result)
    table = report(result["runs"])
    (args.out / f"transform-{args.history}.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
