"""Bronze TMDB assets: movie details landed in DuckDB as they arrived from the API."""


import time

import pyarrow as pa
from dagster import AssetExecutionContext, Config, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from movie_assets.ids import parse_id_list
from movie_assets.metadata import table_metadata
from movie_assets.partitions import daily_partitions
from movie_assets.resources import PipelinePaths
from movie_assets.tmdb_client import FetchResult, TMDBResource
from movie_assets.warehouse import ensure_table, replace_rows

TMDB_MOVIES_TABLE = "bronze.tmdb_movies"
TMDB_MOVIES_COLUMNS = """
    movie_id BIGINT NOT NULL,
    payload JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    partition_date DATE NOT NULL,
    run_id VARCHAR NOT NULL,
    http_status INTEGER NOT NULL,
    request_path VARCHAR NOT NULL
"""


class TMDBMoviesConfig(Config):
    """Run configuration for :func:`tmdb_movies`.

    Attributes:
        append_credits: ask for ``append_to_response=credits`` so silver can derive
            directors and top cast.
    """

    append_credits: bool = True


def fetched_rows(results: list[FetchResult], partition_date: str, run_id: str) -> pa.Table:
    """Arrow rows for ``bronze.tmdb_movies`` from the successful fetches in ``results``.

    Columns: movie_id BIGINT, payload JSON text, fetched_at TIMESTAMPTZ (UTC),
    partition_date DATE, run_id, http_status INTEGER, request_path (no credentials).
    """
    ok = [r for r in results if r.http_status == 200 and r.body is not None]
    return pa.table(
        {
            "movie_id": pa.array([r.movie_id for r in ok], pa.int64()),
            "payload": pa.array([r.body for r in ok], pa.string()),
            "fetched_at": pa.array([r.fetched_at for r in ok], pa.timestamp("us", tz="UTC")),
            "partition_date": pa.array([partition_date] * len(ok), pa.string()).cast(pa.date32()),
            "run_id": pa.array([run_id] * len(ok), pa.string()),
            "http_status": pa.array([r.http_status for r in ok], pa.int32()),
            "request_path": pa.array([r.request_path for r in ok], pa.string()),
        }
    )


@asset(
    key_prefix=["bronze"],
    group_name="bronze",
    partitions_def=daily_partitions,
    kinds={"duckdb", "python"},
    owners=["team:data-engineering"],
)
def tmdb_movies(
    context: AssetExecutionContext,
    config: TMDBMoviesConfig,
    tmdb: TMDBResource,
    duckdb: DuckDBResource,
    paths: PipelinePaths,
) -> MaterializeResult:
    """TMDB ``GET /movie/{id}`` responses for the ids in the analyst's list, one row per movie.

    Source: TMDB API v3 (or the local snapshot server). Table ``bronze.tmdb_movies``:
    movie_id, payload (raw JSON as received), fetched_at (UTC), partition_date, run_id,
    http_status, request_path (without credentials). Re-materializing a day replaces that
    day's rows in one transaction.
    """
    partition_date = context.partition_key
    id_list = parse_id_list(paths.id_list)
    started = time.monotonic()
    client = tmdb.get_client()
    try:
        results = list(client.fetch_movies(id_list.ids, "credits" if config.append_credits else None))
    finally:
        client.close()
    elapsed = time.monotonic() - started
    rows = fetched_rows(results, partition_date, context.run_id)
    with duckdb.get_connection() as conn:
        ensure_table(conn, TMDB_MOVIES_TABLE, TMDB_MOVIES_COLUMNS)
        replace_rows(conn, TMDB_MOVIES_TABLE, rows, "partition_date = ?", [partition_date])
        table_info = table_metadata(conn, TMDB_MOVIES_TABLE)
    not_found = sum(1 for r in results if r.http_status == 404)
    return MaterializeResult(
        metadata={
            "requested": len(id_list.ids),
            "fetched": rows.num_rows,
            "not_found": not_found,
            "failed": len(results) - rows.num_rows - not_found,
            "skipped_from_input": len(id_list.rejected),
            "elapsed_seconds": round(elapsed, 3),
            **table_info,
            "partition_row_count": rows.num_rows,
        }
    )
