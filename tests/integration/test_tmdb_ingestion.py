"""bronze/tmdb_movies and the dead-letter queue, against the local TMDB server with faults.

The local server stands in for live TMDB: the live ``TMDBResource`` reads its key from the
environment when a run makes its client, as in a ``TMDB_SOURCE=live`` deployment.
"""

import csv
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from dagster import AssetKey, asset, materialize

from movie_assets.partitions import build_daily_partitions
from movie_assets.paths import PipelinePaths
from movie_assets.settings import Settings
from movie_assets.tmdb.assets import (
    TMDB_MOVIES_TABLE,
    build_tmdb_assets,
    fetch_details,
    ids_from_discover,
)
from movie_assets.tmdb.client import TMDBClient
from movie_assets.tmdb.dead_letters import DEAD_LETTER_TABLE
from movie_assets.tmdb.id_list import parse_id_list
from movie_assets.tmdb.replay_server import Snapshot, TMDBReplayServer
from movie_assets.tmdb.resources import TMDBResource
from movie_assets.tmdb.retry_job import build_retry_dead_letters_job
from movie_assets.warehouse.lake import Lake, LakeResource
from support.tmdb_faults import Faults, FaultyReplayServer

KEY = "ingestion-test-key"
DAY = "2026-11-20"
MISSING = {9000013, 9104821, 9217330, 9320457, 9433918, 9541276, 9658034, 9762519, 9870042, 9988861}


@pytest.fixture(scope="module")
def snapshot(sample_data: Path) -> Snapshot:
    return Snapshot.load(sample_data / "tmdb")


@pytest.fixture(scope="module")
def listed(sample_data: Path) -> list[int]:
    return parse_id_list(sample_data / "ids" / "movies.csv").ids


@pytest.fixture(autouse=True)
def tmdb_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run-time ``Settings()`` of the live resource reads only this module's key: not a
    token from the shell (it would be preferred, and rejected), nor a developer's ``.env``."""
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    monkeypatch.delenv("TMDB_READ_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("TMDB_SOURCE", "live")
    monkeypatch.setenv("TMDB_API_KEY", KEY)


def resources(server: TMDBReplayServer, settings: Settings) -> dict:
    # The timeout leaves a loaded 2-core machine room to answer: a local request that times out
    # by accident is one more fault, and can exhaust an id the test expects to land.
    return {
        "tmdb": TMDBResource(
            base_url=server.base_url,
            rate_limit=1000,
            max_concurrency=8,
            timeout=1.5,
            max_retries=3,
            backoff_factor=0.05,
        ),
        "lake": LakeResource(root=str(settings.lake_dir)),
        "paths": PipelinePaths(input_dir=str(settings.input_dir), reports_dir=str(settings.reports_dir)),
    }


@asset(deps=[AssetKey(["bronze", "tmdb_movies"])])
def downstream_of_bronze() -> None:
    """Stands in for silver: materialized only when bronze/tmdb_movies is."""


def run_tmdb(server, settings, day=DAY, **config):
    """Materialize tmdb_movies (and :func:`downstream_of_bronze`) for ``day``, a past day
    fetched anyway (``refetch``); metadata by asset name."""
    result = materialize(
        [*build_tmdb_assets(build_daily_partitions(settings), settings.observation_grace_hours), downstream_of_bronze],
        resources=resources(server, settings),
        partition_key=day,
        run_config={"ops": {"tmdb_movies": {"config": {"refetch": True, **config}}}},
    )
    assert result.success
    return {
        event.asset_key.path[-1]: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def query(tmp_path: Path, sql: str, params=None) -> list[tuple]:
    """Rows of ``sql`` over the bronze tables of the lake the ``settings`` fixture puts in ``tmp_path``."""
    with Lake(tmp_path / "lake").connect_bronze() as conn:
        return conn.execute(sql, params or []).fetchall()


def test_faulty_api_lands_every_valid_movie_and_dead_letters_exactly_the_rest(snapshot, listed, tmp_path, settings):
    malformed, idless, failing, stalled = listed[:4]
    faults = Faults(
        error_share=0.2,
        burst_429_after=40,
        burst_429_length=3,
        retry_after=1,
        stall_ids={stalled: 1},
        stall_seconds=3.0,
        malformed_ids=frozenset({malformed}),
        idless_ids=frozenset({idless}),
        failing_ids=frozenset({failing}),
    )
    with FaultyReplayServer(snapshot, api_key=KEY, faults=faults) as server:
        metadata = run_tmdb(server, settings)
        statuses = Counter(entry.status for entry in server.request_log)
        assert statuses[429] == 3 and statuses[503] >= 3 and statuses[500] >= 1
        expected_movies = set(listed) - MISSING - {malformed, idless, failing}
        assert len(expected_movies) == 297
        assert {row[0] for row in query(tmp_path, f"SELECT movie_id FROM {TMDB_MOVIES_TABLE}")} == expected_movies
        fetch_letters = query(tmp_path, f"SELECT movie_id, reason, http_status, attempts FROM {DEAD_LETTER_TABLE} WHERE source = 'fetch'")
        # The always-503 id's last retry can land inside the server-wide 429 burst: either
        # status is its final answer, and it is retries-exhausted either way.
        final_status = {row[0]: row[2] for row in fetch_letters}
        assert final_status.get(failing) in (503, 429)
        assert sorted((row[0], row[1], 503 if row[0] == failing else row[2]) for row in fetch_letters) == sorted(
            [(i, "not-found", 404) for i in MISSING]
            + [(malformed, "bad-payload", 200), (idless, "bad-payload", 200), (failing, "retries-exhausted", 503)]
        )
        # Attempts: 1, one more for an error_share id, one more if the 429 burst hit it; 4 when exhausted.
        attempts = {row[0]: row[3] for row in fetch_letters}
        assert attempts[failing] == 4
        assert all(1 + faults.flaky(i) <= attempts[i] <= 2 + faults.flaky(i) for i in MISSING | {malformed, idless})
        file_letters = Counter(row[0] for row in query(tmp_path, f"SELECT reason FROM {DEAD_LETTER_TABLE} WHERE source = 'ids-file'"))
        assert file_letters == {"blank": 3, "non-numeric": 4, "non-positive": 2, "duplicate": 5}
        movies = metadata["tmdb_movies"]
        assert (movies["requested"], movies["fetched"], movies["not_found"], movies["failed"]) == (310, 297, 10, 3)
        assert movies["skipped_from_input"] == 14 and movies["retries"] >= 10
        assert movies["requests_per_second"] > 0 and movies["elapsed_seconds"] > 0

        # A re-run of the partition replaces it: no duplicates in bronze or the queue.
        run_tmdb(server, settings)
        assert query(tmp_path, f"SELECT count(*), count(DISTINCT movie_id) FROM {TMDB_MOVIES_TABLE}") == [(297, 297)]
        assert query(tmp_path, f"SELECT count(*) FROM {DEAD_LETTER_TABLE}") == [(27,)]

        # The API recovers: the retry job lands the retryable ones and empties them from the queue.
        server.faults = Faults()
        retry_job = build_retry_dead_letters_job(build_daily_partitions(settings), settings.observation_grace_hours)
        job_result = retry_job.execute_in_process(partition_key=DAY, resources=resources(server, settings))
        assert job_result.success
    # DAY is long past: the recovered movies are late observations of the day they failed on.
    assert {
        event.asset_key.path[-1]: event.materialization.metadata["observation"].value for event in job_result.get_asset_materialization_events()
    } == {"tmdb_movies": "late", "tmdb_dead_letter": "late"}
    assert query(tmp_path, f"SELECT count(*), count(DISTINCT movie_id) FROM {TMDB_MOVIES_TABLE}") == [(300, 300)]
    remaining = query(tmp_path, f"SELECT source, reason, count(*) FROM {DEAD_LETTER_TABLE} GROUP BY ALL ORDER BY ALL")
    assert remaining == [
        ("fetch", "not-found", 10),
        ("ids-file", "blank", 3),
        ("ids-file", "duplicate", 5),
        ("ids-file", "non-numeric", 4),
        ("ids-file", "non-positive", 2),
    ]
    with open(tmp_path / "reports" / "dead_letter_queue.csv", newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert len(exported) == 24
    assert {row["raw_value"] for row in exported if row["reason"] == "non-numeric"} >= {"399S79", "550.0"}
    assert {int(row["row_number"]) for row in exported if row["raw_value"] == "399S79"} == {290}
    assert not list((tmp_path / "reports").glob(".dead_letter_queue.*"))


def test_discover_reads_only_the_configured_pages(snapshot, tmp_path, settings):
    with FaultyReplayServer(snapshot, api_key=KEY) as server:
        metadata = run_tmdb(server, settings, id_sources=["discover"], discover_pages=2)
        pages = [entry.path for entry in server.request_log if entry.path.startswith("/3/discover/movie")]
    assert pages == [f"/3/discover/movie?sort_by=popularity.desc&include_adult=false&page={page}" for page in (1, 2)]
    expected = [i for i in snapshot.discover_order if i not in snapshot.adult][:40]
    assert sorted(row[0] for row in query(tmp_path, f"SELECT movie_id FROM {TMDB_MOVIES_TABLE}")) == sorted(expected)
    assert metadata["tmdb_movies"]["skipped_from_input"] == 0


def test_discover_pages_above_500_are_refused(snapshot, settings):
    with TMDBReplayServer(snapshot, api_key=KEY) as server:
        with pytest.raises(Exception, match="discover_pages must be 1-500"):
            run_tmdb(server, settings, id_sources=["discover"], discover_pages=501)


def test_changes_fetch_only_changed_known_or_listed_ids(snapshot, listed, tmp_path, settings, sample_data):
    with FaultyReplayServer(snapshot, api_key=KEY) as server:
        run_tmdb(server, settings, day="2026-11-19")
        # Counted, not assumed: a detail request that timed out on a busy machine is retried.
        first_run_requests = len(server.request_log)
        # No baseline: the change feed is empty, so the incremental run fetches no details.
        quiet = run_tmdb(server, settings, day="2026-11-20", id_sources=["ids-file", "changes"])
        paths = [entry.path for entry in server.request_log[first_run_requests:]]
    assert paths == ["/3/movie/changes?start_date=2026-11-20&end_date=2026-11-20&page=1"]
    # Nothing changed: bronze/tmdb_movies is not materialized, so what reads it is skipped;
    # the day's ID-list rejections are still recorded.
    assert "tmdb_movies" not in quiet and "downstream_of_bronze" not in quiet
    assert quiet["tmdb_dead_letter"]["partition_row_count"] == 14

    later = Snapshot.load(sample_data / "tmdb", "movies_2017-07.jsonl.gz", baseline_file="movies.jsonl.gz")
    expected = set(listed) & set(later.changed_ids)
    assert 0 < len(expected) < 300
    with FaultyReplayServer(later, api_key=KEY) as server:
        changed = run_tmdb(server, settings, day="2026-11-21", id_sources=["changes"])
        pages = [entry.path for entry in server.request_log if "/changes" in entry.path]
    # Known ids are the earlier partitions' 300; the feed lists thousands more that are not fetched.
    assert len(pages) == -(-len(later.changed_ids) // 100)
    day3 = query(tmp_path, f"SELECT movie_id FROM {TMDB_MOVIES_TABLE} WHERE partition_date = '2026-11-21'")
    assert {row[0] for row in day3} == expected
    assert changed["tmdb_movies"]["changed_in_feed"] == len(later.changed_ids)
    assert query(tmp_path, f"SELECT count(*) FROM {TMDB_MOVIES_TABLE} WHERE partition_date = '2026-11-19'") == [(300,)]


def test_a_failed_load_leaves_the_partition_as_it_was(tmp_path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    first = pa.table({"movie_id": pa.array([1], pa.int64()), "run_id": ["r1"]})
    lake.write_partition(TMDB_MOVIES_TABLE, DAY, first)
    before = lake.partition_file(TMDB_MOVIES_TABLE, DAY).read_bytes()

    def dies_half_way(rows, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr("movie_assets.warehouse.lake.pq.write_table", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        lake.write_partition(TMDB_MOVIES_TABLE, DAY, pa.table({"movie_id": pa.array([2], pa.int64()), "run_id": ["r2"]}))
    assert lake.partition_file(TMDB_MOVIES_TABLE, DAY).read_bytes() == before
    assert [path.name for path in lake.partition_file(TMDB_MOVIES_TABLE, DAY).parent.iterdir()] == ["data.parquet"]
    assert query(tmp_path, f"SELECT movie_id, run_id FROM {TMDB_MOVIES_TABLE}") == [(1, "r1")]


def test_unreadable_pages_become_dead_letters_and_the_rest_is_used(snapshot):
    with FaultyReplayServer(snapshot, api_key=KEY, faults=Faults(burst_429_after=0, burst_429_length=1, retry_after=0)) as server:
        client = TMDBClient(server.base_url, api_key=KEY, rate_limit=1000, max_retries=0)
        ids, letters = ids_from_discover(client, 2)
    assert ids == [i for i in snapshot.discover_order if i not in snapshot.adult][20:40]
    assert [(d.source, d.raw_value, d.reason, d.http_status) for d in letters] == [
        ("discover", "/3/discover/movie?sort_by=popularity.desc&include_adult=false&page=1", "retries-exhausted", 429)
    ]


def test_progress_lines_carry_counts_and_rate(snapshot):
    lines: list[str] = []
    with TMDBReplayServer(snapshot, api_key=KEY) as server:
        client = TMDBClient(server.base_url, api_key=KEY, rate_limit=1000)
        summary = fetch_details(client, [19995, 597, 9000013], None, lines.append, progress_every=0.0)
    assert len(lines) == 3 and all(line.startswith("PROGRESS tmdb details: ") for line in lines)
    assert "3/3 done, 2 fetched, 1 not-found, 0 failed, 0 retries, " in lines[-1] and lines[-1].endswith(" requests/s")
    assert summary.http_requests == 3 and summary.requests_per_second > 0
