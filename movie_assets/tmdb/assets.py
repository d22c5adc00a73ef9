"""Bronze TMDB assets: movie details landed in the lake (Parquet) as they arrived from the API.

Where the ids come from is run configuration (:class:`TMDBMoviesConfig.id_sources`):

- ``ids-file``: the analyst's list ``$MOVIES_INPUT_DIR/ids/movies.csv``; rejected rows become
  dead letters with source ``ids-file``.
- ``discover``: the first ``discover_pages`` pages of ``/discover/movie`` by popularity.
- ``changes``: ``/movie/changes`` for the partition's day. It narrows the fetch to the ids
  that changed and are already known (in an earlier partition) or listed by the other
  sources, so an incremental run with no changes fetches no details.

The default is ``["ids-file"]``: the analyst's list is what the product reports on, and a
full daily fetch of it is what ``gold.fact_movie_daily`` needs (popularity and vote counts
move every day without TMDB listing the movie as changed). At the default 40
requests/second the 310 ids take about 8 seconds. ``discover`` widens the catalogue and
``changes`` makes a run incremental; both are opt-in.

A ``changes`` day with nothing to fetch, no unreadable feed page and no rows already in its
partition changes nothing in bronze: :func:`tmdb_movies` then records only the day's dead
letters and does not materialize ``bronze/tmdb_movies``, so Dagster skips silver, gold and
the reports in that run instead of rebuilding them from unchanged data.

A past day is fetched only on request (``refetch``), because TMDB answers with today's
values (:mod:`movie_assets.tmdb.observation`): a past day already in the lake is kept as it
is and silver and gold are re-derived from it; a past day not in the lake gets nothing
written and an observation event saying so.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetObservation,
    AssetsDefinition,
    AssetSpec,
    Config,
    DailyPartitionsDefinition,
    MaterializeResult,
    multi_asset,
)
from pydantic import Field, field_validator
from tqdm import tqdm

from movie_assets.partitions import ONE_DAY_PER_RUN
from movie_assets.paths import PipelinePaths
from movie_assets.tmdb.client import MAX_PAGE, FetchResult, TMDBClient
from movie_assets.tmdb.dead_letters import DEAD_LETTER_SCHEMA, DEAD_LETTER_TABLE, DeadLetter, dead_letter_rows, export_dead_letters_csv
from movie_assets.tmdb.id_list import parse_id_list
from movie_assets.tmdb.observation import missing_observation_message, plan_observation, utc_now
from movie_assets.tmdb.resources import TMDBResource
from movie_assets.warehouse.lake import Lake, LakeResource
from movie_assets.warehouse.metadata import table_metadata

TMDB_MOVIES_TABLE = "bronze.tmdb_movies"
#: ``bronze.tmdb_movies``, declared once: the rows :func:`fetched_rows` writes, the empty table
#: of a first run (:func:`movie_assets.warehouse.lake.schema_ddl`) and dbt's source
#: ``bronze.tmdb_movies`` (checked by tests/unit/test_bronze_schemas.py) all follow it.
#: ``payload`` is the JSON body as text; ``partition_date`` lives in the lake's folder names.
TMDB_MOVIES_SCHEMA = pa.schema(
    [
        pa.field("movie_id", pa.int64(), nullable=False),
        pa.field("payload", pa.string(), nullable=False),
        pa.field("fetched_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("partition_date", pa.date32(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("http_status", pa.int32(), nullable=False),
        pa.field("request_path", pa.string(), nullable=False),
        pa.field("tmdb_source", pa.string(), nullable=False),
    ]
)
ID_SOURCES = ("ids-file", "discover", "changes")
PROGRESS_EVERY_SECONDS = 5.0
OWNERS = ["team:data-engineering"]


class TMDBMoviesConfig(Config):
    """Run configuration for :func:`tmdb_movies`.

    Attributes:
        id_sources: any of ``ids-file``, ``discover``, ``changes`` (see the module docstring).
        discover_pages: how many ``/discover/movie`` pages (20 ids each) ``discover`` reads;
            TMDB serves at most 500.
        append_credits: ask for ``append_to_response=credits`` so silver can derive cast
            and crew; without it every movie's credits are unknown.
        refetch: for a day past its grace hours, fetch anyway and store TMDB's current values
            under that day (marked ``observed_late`` in silver and gold). Without it such a
            day keeps its bronze, or gets nothing when it has none.
    """

    id_sources: list[str] = Field(default_factory=lambda: ["ids-file"])
    discover_pages: int = 5
    append_credits: bool = True
    refetch: bool = False

    @field_validator("id_sources")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(ID_SOURCES))
        if unknown or not value:
            raise ValueError(f"id_sources must be a non-empty subset of {list(ID_SOURCES)}, got {value!r}")
        return value

    @field_validator("discover_pages")
    @classmethod
    def _page_range(cls, value: int) -> int:
        if not 1 <= value <= MAX_PAGE:
            raise ValueError(f"discover_pages must be 1-{MAX_PAGE} (TMDB serves no page above {MAX_PAGE}), got {value}")
        return value


@dataclass
class IdPlan:
    """Which movie ids a run fetches, and what the id sources rejected.

    Attributes:
        ids: ids to fetch, unique, in source order.
        listed: unique ids named by ``ids-file`` and ``discover``.
        changed: ids in the change feed for the day, or None when ``changes`` is not used.
        skipped_from_input: rows of the ID list that yield no id.
        dead_letters: ids-file rejections and unreadable discover / changes pages.
    """

    ids: list[int] = field(default_factory=list)
    listed: int = 0
    changed: int | None = None
    skipped_from_input: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


def ids_from_discover(client: TMDBClient, pages: int) -> tuple[list[int], list[DeadLetter]]:
    """Ids of the first ``pages`` pages of ``/discover/movie?sort_by=popularity.desc&include_adult=false``.

    Stops early at the last page TMDB has, and never asks for a page above 500. A page that
    cannot be read becomes a ``discover`` dead letter and the others are still used.
    """
    ids: list[int] = []
    letters: list[DeadLetter] = []
    page, last_page = 1, min(pages, MAX_PAGE)
    while page <= last_page:
        params = {"sort_by": "popularity.desc", "include_adult": "false", "page": page}
        result = client.fetch("/discover/movie", params, required_key="results")
        if result.ok:
            body = result.json()
            ids.extend(int(movie["id"]) for movie in body["results"])
            last_page = min(last_page, int(body.get("total_pages") or last_page))
        else:
            letters.append(DeadLetter.from_fetch("discover", result))
        page += 1
    return ids, letters


def ids_from_changes(client: TMDBClient, day: str) -> tuple[set[int], list[DeadLetter]]:
    """Ids in ``/movie/changes?start_date=day&end_date=day``, all pages.

    A page that cannot be read becomes a ``changes`` dead letter; if the first page fails
    the feed's length is unknown and no further pages are asked for.
    """
    changed: set[int] = set()
    letters: list[DeadLetter] = []
    page, last_page = 1, 1
    while page <= min(last_page, MAX_PAGE):
        result = client.fetch("/movie/changes", {"start_date": day, "end_date": day, "page": page}, required_key="results")
        if result.ok:
            body = result.json()
            changed.update(int(entry["id"]) for entry in body["results"])
            last_page = int(body.get("total_pages") or 1)
        else:
            letters.append(DeadLetter.from_fetch("changes", result))
        page += 1
    return changed, letters


def plan_ids(
    config: TMDBMoviesConfig,
    client: TMDBClient,
    id_list_path: Path,
    day: str,
    known_ids: Callable[[], set[int]],
) -> IdPlan:
    """Gather the ids to fetch from the configured sources.

    ``known_ids`` is called only for ``changes``: the ids already in bronze from other days.

    Raises:
        movie_assets.tmdb.id_list.IdListError: the ID list is missing or has no ``ID`` header.
    """
    plan = IdPlan()
    listed: list[int] = []
    if "ids-file" in config.id_sources:
        id_list = parse_id_list(id_list_path)
        listed.extend(id_list.ids)
        plan.skipped_from_input = len(id_list.rejected)
        plan.dead_letters.extend(DeadLetter.from_rejected_id(rejected) for rejected in id_list.rejected)
    if "discover" in config.id_sources:
        discovered, letters = ids_from_discover(client, config.discover_pages)
        listed.extend(discovered)
        plan.dead_letters.extend(letters)
    listed = list(dict.fromkeys(listed))
    plan.listed = len(listed)
    if "changes" in config.id_sources:
        changed, letters = ids_from_changes(client, day)
        plan.dead_letters.extend(letters)
        plan.changed = len(changed)
        wanted = known_ids() | set(listed)
        in_order = [i for i in listed if i in changed] + sorted((changed & wanted) - set(listed))
        plan.ids = in_order
    else:
        plan.ids = listed
    return plan


@dataclass
class FetchSummary:
    """What fetching details did: every result, plus the client's counters.

    Attributes:
        results: one :class:`FetchResult` per requested id.
        retries: retries made by the client (id-source pages included).
        http_requests: HTTP requests sent for the details, retries included.
        elapsed_seconds: wall time of the detail fetch, seconds.
    """

    results: list[FetchResult]
    retries: int
    http_requests: int
    elapsed_seconds: float

    @property
    def requests_per_second(self) -> float:
        return self.http_requests / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


def fetch_details(
    client: TMDBClient,
    ids: list[int],
    append_to_response: str | None,
    log: Callable[[str], None],
    progress_every: float = PROGRESS_EVERY_SECONDS,
) -> FetchSummary:
    """Fetch ``/movie/{id}`` for ``ids``; every ``progress_every`` seconds call ``log`` with a
    ``PROGRESS`` line (done/total, fetched, not-found, failed, requests/second) for the run's
    event log, and show a progress bar on a terminal (stderr; none when it is not a TTY).

    Raises:
        movie_assets.tmdb.client.TMDBAuthError: TMDB rejected the credentials.
    """
    started = time.monotonic()
    requests_before = client.requests_sent
    last_report = started
    counts = {"fetched": 0, "not-found": 0, "failed": 0}
    results: list[FetchResult] = []
    with tqdm(total=len(ids), desc="TMDB details", unit="movie", disable=None, leave=False, mininterval=0.5) as bar:
        for result in client.fetch_movies(ids, append_to_response):
            results.append(result)
            counts["fetched" if result.ok else "not-found" if result.reason == "not-found" else "failed"] += 1
            bar.update()
            now = time.monotonic()
            if now - last_report >= progress_every:
                last_report = now
                rate = (client.requests_sent - requests_before) / (now - started)
                bar.set_postfix(counts, refresh=False)
                log(
                    f"PROGRESS tmdb details: {len(results)}/{len(ids)} done, {counts['fetched']} fetched, "
                    f"{counts['not-found']} not-found, {counts['failed']} failed, {client.retries} retries, "
                    f"{rate:.1f} requests/s"
                )
    return FetchSummary(results, client.retries, client.requests_sent - requests_before, time.monotonic() - started)


def tmdb_lake(lake: Lake) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with ``bronze.tmdb_movies`` and ``bronze.tmdb_dead_letter`` over
    the lake's partitions (empty tables before the first run); the caller closes it."""
    return lake.connect_bronze({TMDB_MOVIES_TABLE: TMDB_MOVIES_SCHEMA, DEAD_LETTER_TABLE: DEAD_LETTER_SCHEMA})


def fetched_rows(results: list[FetchResult], partition_date: str, run_id: str, tmdb_source: str) -> pa.Table:
    """Arrow rows for ``bronze.tmdb_movies`` (:data:`TMDB_MOVIES_SCHEMA`) from the successful
    fetches in ``results``.

    Columns: movie_id BIGINT, payload JSON text, fetched_at TIMESTAMPTZ (UTC),
    partition_date DATE, run_id, http_status INTEGER, request_path (no credentials),
    tmdb_source (``live`` or ``snapshot``: which deployment produced the row).
    """
    ok = [r for r in results if r.ok and r.movie_id is not None]
    day = date.fromisoformat(partition_date)
    return pa.table(
        {
            "movie_id": [r.movie_id for r in ok],
            "payload": [r.body for r in ok],
            "fetched_at": [r.fetched_at for r in ok],
            "partition_date": [day] * len(ok),
            "run_id": [run_id] * len(ok),
            "http_status": [r.http_status for r in ok],
            "request_path": [r.request_path for r in ok],
            "tmdb_source": [tmdb_source] * len(ok),
        },
        schema=TMDB_MOVIES_SCHEMA,
    )


def partition_row_count(conn: duckdb.DuckDBPyConnection, partition_date: str) -> int:
    """Rows of ``bronze.tmdb_movies`` for ``partition_date`` (YYYY-MM-DD)."""
    return conn.execute(f"SELECT count(*) FROM {TMDB_MOVIES_TABLE} WHERE partition_date = ?", [partition_date]).fetchone()[0]


def changes_nothing(plan: IdPlan, rows_before: int) -> bool:
    """True when a run would leave ``bronze.tmdb_movies`` as it was: no id to fetch, no id
    source page that failed (so the empty plan is an answer, not an outage), and no rows
    already in the partition to replace."""
    page_failures = [letter for letter in plan.dead_letters if letter.source in ("discover", "changes")]
    return not plan.ids and not page_failures and rows_before == 0


def known_movie_ids(conn: duckdb.DuckDBPyConnection, partition_date: str) -> set[int]:
    """Ids in ``bronze.tmdb_movies`` from partitions other than ``partition_date``."""
    rows = conn.execute(f"SELECT DISTINCT movie_id FROM {TMDB_MOVIES_TABLE} WHERE partition_date <> ?", [partition_date]).fetchall()
    return {row[0] for row in rows}


def kept_day(log: Callable[[str], None], lake: Lake, partition_date: str) -> Iterator[MaterializeResult]:
    """The materializations of a past day kept as it is in the lake (observation ``keep``):
    nothing is fetched or written, and downstream assets re-derive the day from its files.
    Metadata: ``observation``, the day's row count, the table's schema and size."""
    with tmdb_lake(lake) as conn:
        movies = partition_row_count(conn, partition_date)
        letters = conn.execute(f"SELECT count(*) FROM {DEAD_LETTER_TABLE} WHERE partition_date = ?", [partition_date]).fetchone()[0]
        movies_info = table_metadata(conn, TMDB_MOVIES_TABLE)
        letters_info = table_metadata(conn, DEAD_LETTER_TABLE)
    log(
        f"tmdb: {partition_date} is past its grace hours and already observed ({movies} movies in the lake); "
        "nothing fetched, its bronze is kept and silver and gold are re-derived from it"
    )
    yield MaterializeResult(
        asset_key=["bronze", "tmdb_movies"],
        metadata={**movies_info, "partition_row_count": movies, "observation": "keep"},
    )
    yield MaterializeResult(
        asset_key=["bronze", "tmdb_dead_letter"],
        metadata={**letters_info, "partition_row_count": letters, "observation": "keep"},
    )


def build_tmdb_assets(partitions: DailyPartitionsDefinition, grace_hours: int) -> list[AssetsDefinition]:
    """The multi-asset ``tmdb_movies`` (``bronze/tmdb_movies`` and ``bronze/tmdb_dead_letter``),
    partitioned by ``partitions``; a day is observed until ``grace_hours`` after it ends
    (``MOVIES_OBSERVATION_GRACE_HOURS``)."""

    @multi_asset(
        name="tmdb_movies",
        specs=[
            AssetSpec(
                ["bronze", "tmdb_movies"],
                description=(
                    "TMDB GET /movie/{id} responses, one row per (partition_date, movie_id) fetched: movie_id, "
                    "payload (raw JSON as received), fetched_at (UTC), partition_date, run_id, http_status, "
                    "request_path (without credentials), tmdb_source (live or snapshot)."
                ),
                group_name="bronze",
                kinds={"parquet", "python"},
                owners=OWNERS,
                # Not materialized on a day that changes nothing (see the module docstring).
                skippable=True,
            ),
            AssetSpec(
                ["bronze", "tmdb_dead_letter"],
                description=(
                    "Inputs of a TMDB run that yielded no movie: rejected ID-list rows, unreadable discover/changes "
                    "pages, failed fetches (source, raw_value, movie_id, row_number, reason, http_status, attempts, "
                    "last_error, partition_date, run_id, recorded_at). Also exported as dead_letter_queue.csv."
                ),
                group_name="bronze",
                kinds={"parquet", "csv"},
                owners=OWNERS,
                # Not materialized for a past day without an observation (nothing is written).
                skippable=True,
            ),
        ],
        partitions_def=partitions,
        backfill_policy=ONE_DAY_PER_RUN,
    )
    def tmdb_movies(
        context: AssetExecutionContext,
        config: TMDBMoviesConfig,
        tmdb: TMDBResource,
        lake: LakeResource,
        paths: PipelinePaths,
    ):
        """Fetch the partition's TMDB movie details and land them with their dead letters.

        Source: TMDB API v3 (or the local snapshot server). Replaces the partition's Parquet
        files of ``bronze/tmdb_movies`` and ``bronze/tmdb_dead_letter`` in the lake (each
        atomically; no DuckDB file is opened), then exports the dead-letter queue to
        ``$MOVIES_REPORTS_DIR/dead_letter_queue.csv``. A day past its grace hours is fetched
        only with ``refetch`` (:func:`movie_assets.tmdb.observation.plan_observation`);
        every materialization says which case it was in its ``observation`` metadata.

        Raises:
            TMDBAuthError: TMDB rejected the credentials (the run stops at once).
            IdListError: the ID list cannot be read.
        """
        partition_date = context.partition_key
        in_lake = partition_date in lake.lake.partitions(TMDB_MOVIES_TABLE)
        observation = plan_observation(date.fromisoformat(partition_date), utc_now(), grace_hours, config.refetch, in_lake)
        if observation == "missing":
            context.log.warning(missing_observation_message(partition_date))
            yield AssetObservation(asset_key=["bronze", "tmdb_movies"], partition=partition_date, metadata={"observation": observation})
            return
        if observation == "keep":
            yield from kept_day(context.log.info, lake.lake, partition_date)
            return
        if observation == "late":
            context.log.warning(f"refetch of {partition_date}: TMDB's current values are stored under that day and marked observed_late")
        client = tmdb.get_client()
        try:
            with tmdb_lake(lake.lake) as conn:
                rows_before = partition_row_count(conn, partition_date)
                plan = plan_ids(config, client, paths.id_list, partition_date, lambda: known_movie_ids(conn, partition_date))
            context.log.info(
                f"tmdb ids for {partition_date} from {config.id_sources}: {len(plan.ids)} to fetch, "
                f"{plan.listed} listed, changed {plan.changed}, {plan.skipped_from_input} skipped from input"
            )
            summary = fetch_details(client, plan.ids, "credits" if config.append_credits else None, context.log.info)
        finally:
            client.close()
        letters = plan.dead_letters + [DeadLetter.from_fetch("fetch", r) for r in summary.results if not r.ok]
        rows = fetched_rows(summary.results, partition_date, context.run_id, tmdb.source)
        letter_rows = dead_letter_rows(letters, partition_date, context.run_id)
        # A changes day that changes nothing writes no movie file, so the day stays absent
        # rather than recorded as empty; its dead letters are kept either way.
        if not changes_nothing(plan, rows_before):
            lake.lake.write_partition(TMDB_MOVIES_TABLE, partition_date, rows)
        lake.lake.write_partition(DEAD_LETTER_TABLE, partition_date, letter_rows)
        with tmdb_lake(lake.lake) as conn:
            csv_path = export_dead_letters_csv(conn, paths.reports)
            movies_info = table_metadata(conn, TMDB_MOVIES_TABLE)
            letters_info = table_metadata(conn, DEAD_LETTER_TABLE)
        not_found = sum(1 for r in summary.results if r.reason == "not-found")
        context.log.info(
            f"tmdb details for {partition_date}: {rows.num_rows} fetched, {not_found} not-found, "
            f"{len(summary.results) - rows.num_rows - not_found} failed, {summary.retries} retries, "
            f"{summary.elapsed_seconds:.1f} s, {summary.requests_per_second:.1f} requests/s"
        )
        if changes_nothing(plan, rows_before):
            context.log.info(
                f"tmdb: nothing changed for {partition_date}; bronze/tmdb_movies is not materialized, "
                "so the steps downstream of it are skipped in this run"
            )
        else:
            yield MaterializeResult(
                asset_key=["bronze", "tmdb_movies"],
                metadata={
                    "id_sources": ", ".join(config.id_sources),
                    "requested": len(plan.ids),
                    "fetched": rows.num_rows,
                    "not_found": not_found,
                    "failed": len(summary.results) - rows.num_rows - not_found,
                    "skipped_from_input": plan.skipped_from_input,
                    "changed_in_feed": plan.changed if plan.changed is not None else -1,
                    "retries": summary.retries,
                    "http_requests": summary.http_requests,
                    "elapsed_seconds": round(summary.elapsed_seconds, 3),
                    "requests_per_second": round(summary.requests_per_second, 2),
                    "rate_limit": tmdb.rate_limit,
                    **movies_info,
                    "partition_row_count": rows.num_rows,
                    "observation": observation,
                },
            )
        yield MaterializeResult(
            asset_key=["bronze", "tmdb_dead_letter"],
            metadata={
                "partition_row_count": letter_rows.num_rows,
                "by_reason": ", ".join(f"{reason}: {n}" for reason, n in sorted(Counter(d.reason for d in letters).items())),
                "csv_path": str(csv_path),
                **letters_info,
                "observation": observation,
            },
        )

    return [tmdb_movies]
