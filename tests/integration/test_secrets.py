"""TMDB credentials never reach logs, exceptions, stored request paths, tables, the DLQ or files.

The local replay server stands in for live TMDB with a real key: the live ``TMDBResource``
reads the key from the environment when a run makes its client, as in a ``TMDB_SOURCE=live``
deployment.
"""

import logging
import secrets
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from conftest import REFETCH_RUN_CONFIG
from movie_assets.partitions import build_daily_partitions
from movie_assets.paths import PipelinePaths
from movie_assets.settings import Settings
from movie_assets.tmdb.assets import build_tmdb_assets
from movie_assets.tmdb.id_list import parse_id_list
from movie_assets.tmdb.replay_server import Snapshot
from movie_assets.tmdb.resources import TMDBResource
from movie_assets.tmdb.retry_job import build_retry_dead_letters_job
from movie_assets.warehouse.lake import Lake, LakeResource
from support.tmdb_faults import Faults, FaultyReplayServer

DAY = "2026-11-20"


def everything_written(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in sorted(root.rglob("*")) if path.is_file()]


def table_text(settings: Settings) -> str:
    """Every row of every bronze table in the lake, as text (Parquet pages are compressed, so
    the files' bytes alone could hide a credential)."""
    lake = Lake(settings.lake_dir)
    assert {"tmdb_movies", "tmdb_dead_letter"} <= set(lake.tables())
    with lake.connect_bronze() as conn:
        return "\n".join(str(row) for table in lake.tables() for row in conn.execute(f"SELECT * FROM bronze.{table}").fetchall())


CREDENTIAL_VARIABLES = {"api_key": "TMDB_API_KEY", "read_access_token": "TMDB_READ_ACCESS_TOKEN"}


@pytest.mark.parametrize("credential", sorted(CREDENTIAL_VARIABLES))
def test_credentials_appear_nowhere(credential, settings: Settings, sample_data, tmp_path, caplog, capfd, monkeypatch):
    key = f"secret-{credential}-{secrets.token_hex(12)}"
    wrong = f"wrong-{secrets.token_hex(12)}"
    caplog.set_level(logging.DEBUG)
    snapshot = Snapshot.load(sample_data / "tmdb")
    listed = parse_id_list(sample_data / "ids" / "movies.csv").ids
    # Faults that put URLs and error texts into logs and dead letters: retries, timeouts, 404s.
    faults = Faults(
        error_share=0.1,
        burst_429_after=20,
        burst_429_length=2,
        retry_after=1,
        stall_ids={listed[0]: 99},
        stall_seconds=1.0,
        malformed_ids=frozenset({listed[1]}),
        failing_ids=frozenset({listed[2]}),
    )
    server_credentials = {"api_key": key} if credential == "api_key" else {"access_token": key}
    (tmp_path / "dagster_home").mkdir()
    instance = DagsterInstance.local_temp(str(tmp_path / "dagster_home"))
    paths = PipelinePaths(input_dir=str(settings.input_dir), reports_dir=str(settings.reports_dir))
    lake = LakeResource(root=str(settings.lake_dir))
    partitions = build_daily_partitions(settings)
    tmdb_movies = build_tmdb_assets(partitions, settings.observation_grace_hours)
    retry_dead_letters_job = build_retry_dead_letters_job(partitions, settings.observation_grace_hours)
    # The run-time Settings() read only this test's credential: not the other one from the
    # shell, nor a developer's .env.
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    for variable in CREDENTIAL_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TMDB_SOURCE", "live")
    monkeypatch.setenv(CREDENTIAL_VARIABLES[credential], key)

    with FaultyReplayServer(snapshot, faults=faults, **server_credentials) as server:
        tmdb = TMDBResource(base_url=server.base_url, rate_limit=1000, max_concurrency=8, timeout=0.3, max_retries=2, backoff_factor=0.02)
        resources = {"tmdb": tmdb, "lake": lake, "paths": paths}
        ok = materialize(tmdb_movies, resources=resources, partition_key=DAY, instance=instance, run_config=REFETCH_RUN_CONFIG)
        retried = retry_dead_letters_job.execute_in_process(partition_key=DAY, resources=resources, instance=instance)
        monkeypatch.setenv(CREDENTIAL_VARIABLES[credential], wrong)
        rejected = materialize(
            tmdb_movies,
            resources=resources,
            partition_key=DAY,
            instance=instance,
            raise_on_error=False,
            run_config=REFETCH_RUN_CONFIG,
        )
        stored_paths = "\n".join(entry.path for entry in server.request_log)
    assert ok.success and retried.success and not rejected.success
    failure = rejected.failure_data_for_node("tmdb_movies")
    error_text = str(failure.error.to_string())
    assert "rejected the configured credentials" in error_text

    events = "\n".join(str(event) for result in (ok, retried, rejected) for event in result.all_events)
    places = {
        "exception": error_text,
        "dagster events": events,
        "captured logs": caplog.text,
        "stdout/stderr": "".join(capfd.readouterr()),
        "server request log": stored_paths,
        "lake tables": table_text(settings),
    }
    for place, text in places.items():
        for secret in (key, wrong):
            assert secret not in text, f"a credential leaked into the {place}"
    files = everything_written(tmp_path)
    assert any(path.name == "dead_letter_queue.csv" for path, _ in files)
    assert any(path.suffix == ".parquet" for path, _ in files)
    for path, content in files:
        for secret in (key, wrong):
            assert secret.encode() not in content, f"a credential leaked into {path}"
    # The sanity check that the greps can see something: the URLs did reach the logs, redacted.
    assert "***" in caplog.text or credential == "read_access_token"
