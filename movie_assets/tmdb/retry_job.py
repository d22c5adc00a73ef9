"""The dead-letter retry job: re-fetch a partition's retryable TMDB dead letters.

Retryable are fetch dead letters whose reason may pass with time (``retries-exhausted``,
``timeout``, ``connection-error``, ``bad-payload``); ``not-found`` and the ID-list
rejections are final. A movie fetched now joins the partition in ``bronze.tmdb_movies`` and
leaves the queue; one that fails again stays, with its attempts added up and the new
error. The day's two lake files are rewritten (each atomically), then the CSV export.

A retry follows the observation rule of the daily fetch (:mod:`movie_assets.tmdb.observation`):
within the day or its grace hours a recovered movie is observed normally; later it lands as a
late observation of the day it failed on: its ``fetched_at`` is the retry's time, so silver and
gold mark it ``observed_late``, and the run's materialization says ``observation: late``.

Run it for one day from the UI (Jobs -> ``retry_dead_letters_job``, pick the partition) or:
``.venv/bin/dagster job execute -m movie_assets.definitions -j retry_dead_letters_job
--tags '{"dagster/partition": "2026-11-21"}'``.
"""

from dataclasses import dataclass, replace
from datetime import date

import duckdb
from dagster import AssetMaterialization, Config, DailyPartitionsDefinition, JobDefinition, OpExecutionContext, job, op

from movie_assets.paths import PipelinePaths
from movie_assets.run_tags import WRITES_WAREHOUSE_TAGS
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE, fetch_details, fetched_rows, tmdb_lake
from movie_assets.tmdb.client import RETRYABLE_REASONS, TMDBClient
from movie_assets.tmdb.dead_letters import DEAD_LETTER_TABLE, DeadLetter, dead_letter_rows, export_dead_letters_csv
from movie_assets.tmdb.observation import is_late, utc_now
from movie_assets.tmdb.resources import TMDBResource
from movie_assets.warehouse.lake import Lake, LakeResource


@dataclass(frozen=True)
class RetryOutcome:
    """What a retry did: ``retried`` ids asked for again, ``recovered`` ids now in bronze,
    ``still_failing`` ids left in the queue, ``retries`` HTTP retries made."""

    retried: list[int]
    recovered: list[int]
    still_failing: list[int]
    retries: int


def retryable_dead_letters(conn: duckdb.DuckDBPyConnection, partition_date: str) -> dict[int, int]:
    """Movie id -> attempts so far, for the partition's retryable fetch dead letters."""
    rows = conn.execute(
        f"SELECT movie_id, attempts FROM {DEAD_LETTER_TABLE} "
        "WHERE partition_date = ? AND source = 'fetch' AND movie_id IS NOT NULL AND list_contains(?, reason) "
        "ORDER BY movie_id",
        [partition_date, sorted(RETRYABLE_REASONS)],
    ).fetchall()
    return {movie_id: attempts for movie_id, attempts in rows}


def _day_rewritten(conn: duckdb.DuckDBPyConnection, table: str, partition_date: str, replaced_when: str, movie_ids: list[int], new: str):
    """The rows of ``table``'s day after a retry, as an Arrow table without ``partition_date``:
    its rows except those for ``movie_ids`` that meet ``replaced_when`` (SQL), plus the rows of
    the registered relation ``new``."""
    return conn.sql(
        f"SELECT * EXCLUDE (partition_date) FROM {table} WHERE partition_date = ? "
        f"AND NOT (({replaced_when}) AND list_contains(?::BIGINT[], movie_id)) "
        f"UNION ALL BY NAME SELECT * EXCLUDE (partition_date) FROM {new}",
        params=[partition_date, movie_ids],
    ).to_arrow_table()


def retry_dead_letters(
    lake: Lake,
    client: TMDBClient,
    partition_date: str,
    run_id: str,
    append_to_response: str | None,
    tmdb_source: str,
    log=print,
) -> RetryOutcome:
    """Re-fetch the retryable dead letters of ``partition_date`` and rewrite that day's
    ``bronze/tmdb_movies`` and ``bronze/tmdb_dead_letter`` files in the lake: recovered movies
    join the day's movies and leave the queue; movies failing again stay, attempts added up.

    Raises:
        movie_assets.tmdb.client.TMDBAuthError: TMDB rejected the credentials (nothing changes).
    """
    with tmdb_lake(lake) as conn:
        previous_attempts = retryable_dead_letters(conn, partition_date)
    ids = list(previous_attempts)
    summary = fetch_details(client, ids, append_to_response, log)
    recovered = [r.movie_id for r in summary.results if r.ok]
    failing = [r for r in summary.results if not r.ok]
    letters = [replace(DeadLetter.from_fetch("fetch", r), attempts=previous_attempts[r.movie_id] + r.attempts) for r in failing]
    with tmdb_lake(lake) as conn:
        conn.register("new_movies", fetched_rows(summary.results, partition_date, run_id, tmdb_source))
        conn.register("new_letters", dead_letter_rows(letters, partition_date, run_id))
        # The day's files are rewritten whole: what was there, less what this retry replaces.
        movies = _day_rewritten(conn, TMDB_MOVIES_TABLE, partition_date, "TRUE", recovered, "new_movies")
        remaining = _day_rewritten(conn, DEAD_LETTER_TABLE, partition_date, "source = 'fetch'", ids, "new_letters")
    if ids:
        lake.write_partition(TMDB_MOVIES_TABLE, partition_date, movies)
        lake.write_partition(DEAD_LETTER_TABLE, partition_date, remaining)
    return RetryOutcome(ids, recovered, [r.movie_id for r in failing], summary.retries)


class RetryDeadLettersConfig(Config):
    """Run configuration of :func:`retry_tmdb_dead_letters`.

    Attributes:
        append_credits: ask for ``append_to_response=credits``, as the daily fetch does.
    """

    append_credits: bool = True


def build_retry_op(grace_hours: int):
    """The op ``retry_tmdb_dead_letters``; a retry after ``grace_hours`` past the day's end is a late observation."""

    @op(description="Re-fetch the partition's retryable TMDB dead letters; successes join bronze.tmdb_movies.")
    def retry_tmdb_dead_letters(
        context: OpExecutionContext,
        config: RetryDeadLettersConfig,
        tmdb: TMDBResource,
        lake: LakeResource,
        paths: PipelinePaths,
    ) -> None:
        retry_partition(context, config, tmdb, lake, paths, grace_hours)

    return retry_tmdb_dead_letters


def retry_partition(
    context: OpExecutionContext,
    config: RetryDeadLettersConfig,
    tmdb: TMDBResource,
    lake: LakeResource,
    paths: PipelinePaths,
    grace_hours: int,
) -> None:
    """The body of the op ``retry_tmdb_dead_letters`` for the run's partition (see the module
    docstring); logs the outcome and records materializations of both bronze tables with
    metadata ``retried``, ``recovered``, ``still_failing``, ``retries`` and ``observation``
    (``observe`` or ``late``)."""
    partition_date = context.partition_key
    observation = "late" if is_late(date.fromisoformat(partition_date), utc_now(), grace_hours) else "observe"
    client = tmdb.get_client()
    try:
        outcome = retry_dead_letters(
            lake.lake,
            client,
            partition_date,
            context.run_id,
            "credits" if config.append_credits else None,
            tmdb.source,
            context.log.info,
        )
        with tmdb_lake(lake.lake) as conn:
            csv_path = export_dead_letters_csv(conn, paths.reports)
    finally:
        client.close()
    context.log.info(
        f"dead-letter retry for {partition_date}: {len(outcome.retried)} retried, {len(outcome.recovered)} recovered, "
        f"{len(outcome.still_failing)} still failing"
        + ("; past the day's grace hours, so the recovered movies are late observations (observed_late)" if observation == "late" else "")
    )
    metadata = {
        "retried": len(outcome.retried),
        "recovered": len(outcome.recovered),
        "still_failing": len(outcome.still_failing),
        "retries": outcome.retries,
        "observation": observation,
    }
    if outcome.retried:
        context.log_event(AssetMaterialization(["bronze", "tmdb_movies"], partition=partition_date, metadata=metadata))
        context.log_event(
            AssetMaterialization(["bronze", "tmdb_dead_letter"], partition=partition_date, metadata={**metadata, "csv_path": str(csv_path)})
        )


def build_retry_dead_letters_job(partitions: DailyPartitionsDefinition, grace_hours: int) -> JobDefinition:
    """The job ``retry_dead_letters_job``: one day's :func:`retry_partition`, partitioned like the
    fetch; ``grace_hours`` as ``MOVIES_OBSERVATION_GRACE_HOURS``."""
    retry_tmdb_dead_letters = build_retry_op(grace_hours)

    @job(
        partitions_def=partitions,
        tags=WRITES_WAREHOUSE_TAGS,
        description="Re-fetch one day's retryable TMDB dead letters (timeouts, 429/5xx, bad payloads).",
    )
    def retry_dead_letters_job():
        retry_tmdb_dead_letters()

    return retry_dead_letters_job
