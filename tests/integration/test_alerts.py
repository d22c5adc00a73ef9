"""Alerts and freshness against a real Dagster instance (SQLite in a temporary home) and a real
webhook receiver on 127.0.0.1.

The sensors are evaluated as the daemon evaluates them (``evaluate_tick`` with the instance and
the cursor of the previous tick); the runs they react to are real runs of the product's jobs.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetMaterialization,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    TimestampMetadataValue,
    build_run_status_sensor_context,
    build_sensor_context,
)

from conftest import REFETCH_RUN_CONFIG, make_settings
from movie_assets.automation.alerts import RUN_FAILURE_ALERT_SENSOR, AlertDeliveryError, AlertWebhook, post_alert
from movie_assets.automation.freshness import FRESHNESS_ALERT_SENSOR, FRESHNESS_CHECKS_SENSOR, PUBLISHED_SNAPSHOT, TMDB_MOVIES
from movie_assets.automation.run_summary import summarize_events
from movie_assets.definitions import build_definitions
from movie_assets.settings import Settings
from movie_assets.tmdb.checks import TMDB_DEAD_LETTER

BRONZE_FRESHNESS = AssetCheckKey(TMDB_MOVIES, "freshness_check")
SNAPSHOT_FRESHNESS = AssetCheckKey(PUBLISHED_SNAPSHOT, "freshness_check")


class Receiver(ThreadingHTTPServer):
    """A webhook on 127.0.0.1 that records each POST's path and JSON body and answers
    ``status``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.status = 200
        self.posts: list[tuple[str, dict]] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    @property
    def texts(self) -> list[str]:
        return [body["text"] for _, body in self.posts]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.posts.append((self.path, body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args) -> None:
        """Quiet: the test reads the recorded posts."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def secret_path() -> str:
    """A Slack-like webhook path; the path is the credential."""
    return f"/services/T0/B0/{secrets.token_hex(16)}"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def bronze_job(defs: Definitions):
    """``daily_refresh`` for the TMDB fetch alone (the multi-asset writes both bronze tables)."""
    return defs.resolve_job_def("daily_refresh").get_subset(asset_selection={TMDB_MOVIES, TMDB_DEAD_LETTER})


def tick(defs: Definitions, name: str, instance: DagsterInstance, cursor: str | None = None):
    """One evaluation of the sensor ``name`` as the daemon makes it: with the instance, the
    previous tick's cursor, the definitions and the resources the sensor asks for."""
    sensor = defs.resolve_sensor_def(name)
    resources = {key: defs.resources[key] for key in sensor.required_resource_keys}
    return sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=defs, resources=resources, cursor=cursor))


def everything_stored(home: Path) -> bytes:
    """Every byte of every file of the instance: run storage, event log, schedules, logs."""
    return b"".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())


@dataclass
class FailedRun:
    """A ``daily_refresh`` run for today that failed in the TMDB fetch (no ID list in the input
    folder), in the instance at ``home``, and the run-failure sensor's cursor from just before it."""

    home: Path
    settings: Settings
    defs: Definitions
    run_id: str
    cursor_before: str


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory, sample_data: Path, dbt_manifest: Path) -> FailedRun:
    root = tmp_path_factory.mktemp("failed_run")
    inputs, home = root / "inputs", root / "dagster_home"
    inputs.mkdir()
    home.mkdir()
    (inputs / "tmdb").symlink_to(sample_data / "tmdb")
    settings = make_settings(root, input_dir=inputs)
    defs = build_definitions(settings)
    with DagsterInstance.from_config(str(home)) as instance:
        # The first tick only places the cursor at the newest run status change.
        cursor_before = tick(defs, RUN_FAILURE_ALERT_SENSOR, instance).cursor
        result = bronze_job(defs).execute_in_process(partition_key=today(), instance=instance, raise_on_error=False)
    assert not result.success, "the run without an ID list was meant to fail"
    return FailedRun(home, settings, defs, result.run_id, cursor_before)


def test_a_failed_run_alerts_once_naming_job_partition_step_and_link(failed_run, receiver, monkeypatch, caplog, capfd):
    url = receiver.url(secret_path())
    monkeypatch.setenv("MOVIES_ALERT_WEBHOOK_URL", url)
    caplog.set_level(logging.DEBUG)
    with DagsterInstance.from_config(str(failed_run.home)) as instance:
        cursor = failed_run.cursor_before
        for _ in range(3):
            evaluation = tick(failed_run.defs, RUN_FAILURE_ALERT_SENSOR, instance, cursor)
            assert not any(reaction.error for reaction in evaluation.dagster_run_reactions or [])
            cursor = evaluation.cursor
        run_config = json.dumps(instance.get_run_by_id(failed_run.run_id).run_config)
        events = [repr(entry) for entry in instance.all_logs(failed_run.run_id)]

    assert len(receiver.posts) == 1, receiver.texts
    path, body = receiver.posts[0]
    assert url.endswith(path) and set(body) == {"text"}
    text = body["text"]
    assert text.startswith(f"Run failed: daily_refresh, partition {today()}\n")
    assert "Failed steps:\n  • tmdb_movies:" in text
    assert "movies.csv" in text, "the step's error (the missing ID list) is named"
    assert text.endswith(f"Run: http://127.0.0.1:3000/runs/{failed_run.run_id}")

    captured = capfd.readouterr()
    for where, content in {
        "log records": caplog.text,
        "stdout": captured.out,
        "stderr": captured.err,
        "run config": run_config,
        "stored events": "\n".join(events),
    }.items():
        assert url not in content and path not in content, f"the webhook URL is in the {where}"
    assert path.encode() not in everything_stored(failed_run.home)


def test_without_a_webhook_the_sensor_skips_saying_so(failed_run, receiver, monkeypatch):
    monkeypatch.delenv("MOVIES_ALERT_WEBHOOK_URL", raising=False)
    if Settings().alert_webhook_url is not None:
        pytest.skip("the repository's .env sets MOVIES_ALERT_WEBHOOK_URL")
    sensor = failed_run.defs.resolve_sensor_def(RUN_FAILURE_ALERT_SENSOR)
    with DagsterInstance.from_config(str(failed_run.home)) as instance:
        failure = instance.all_logs(failed_run.run_id, of_type=DagsterEventType.RUN_FAILURE)[0].dagster_event
        context = build_run_status_sensor_context(
            sensor_name=RUN_FAILURE_ALERT_SENSOR,
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(failed_run.run_id),
            resources={"alert_webhook": AlertWebhook()},
        )
        outcome = sensor(context)
    assert outcome.skip_message == f"MOVIES_ALERT_WEBHOOK_URL is not set: no alert sent for the failed run {failed_run.run_id} of daily_refresh"
    assert receiver.posts == []


def test_a_refused_alert_names_the_status_never_the_url(receiver, caplog):
    url = receiver.url(secret_path())
    receiver.status = 500
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AlertDeliveryError) as raised:
        post_alert(Settings(_env_file=None, MOVIES_ALERT_WEBHOOK_URL=url).alert_webhook_url, "hello", max_retries=2, backoff_factor=0.01)
    assert str(raised.value) == "alert webhook answered 500"
    assert len(receiver.posts) == 3, "the first POST and two retries"
    assert "Retry" in caplog.text, "urllib3 logged its retries"
    assert url not in caplog.text and receiver.posts[0][0] not in caplog.text
    assert receiver.posts[0][0] not in "".join(traceback.format_exception(raised.value)), "a logged traceback"


def test_an_unreachable_webhook_is_named_without_its_url(caplog):
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    path = secret_path()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AlertDeliveryError) as raised:
        settings = Settings(_env_file=None, MOVIES_ALERT_WEBHOOK_URL=f"http://127.0.0.1:{port}{path}")
        post_alert(settings.alert_webhook_url, "x", max_retries=1, backoff_factor=0.01)
    assert str(raised.value) == "alert webhook unreachable (ConnectionError)"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert "Retrying" in caplog.text and path not in caplog.text
    assert path not in "".join(traceback.format_exception(raised.value))


def evaluate_due_freshness_checks(defs: Definitions, instance: DagsterInstance) -> set[AssetCheckKey]:
    """One tick of the freshness checks' sensor, and the runs it requests executed as the
    daemon would launch them; the checks they evaluated."""
    evaluated = set()
    for request in tick(defs, FRESHNESS_CHECKS_SENSOR, instance).run_requests or []:
        job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_check_selection=set(request.asset_check_keys))
        result = job.execute_in_process(instance=instance, tags=request.tags)
        evaluated |= {evaluation.asset_check_key for evaluation in result.get_asset_check_evaluations()}
    return evaluated


def latest(instance: DagsterInstance, key: AssetCheckKey) -> AssetCheckEvaluation:
    """The check's latest evaluation, whichever run made it (the sensor's, or a run that
    materialized the asset and ran its checks with it)."""
    return instance.get_latest_asset_check_evaluation_record(key).event.asset_check_evaluation


def test_bronze_freshness_fails_until_todays_partition_lands_and_alerts_once(tmp_path, sample_data, dbt_manifest, receiver, monkeypatch):
    monkeypatch.setenv("MOVIES_ALERT_WEBHOOK_URL", receiver.url(secret_path()))
    # A deadline at 00:00 UTC has always passed today, so the expected partition is today's
    # whatever the time the test runs (with the default 08:00 it would be yesterday's before 08:00).
    settings = make_settings(tmp_path, bronze_deadline_utc=time(0, 0))
    defs = build_definitions(settings)
    day, yesterday = today(), (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    (tmp_path / "dagster_home").mkdir()
    with DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:

        def alert_tick(cursor: str | None) -> str | None:
            return tick(defs, FRESHNESS_ALERT_SENSOR, instance, cursor).cursor

        assert evaluate_due_freshness_checks(defs, instance) == {BRONZE_FRESHNESS, SNAPSHOT_FRESHNESS}, "due on a new instance"
        missing = latest(instance, BRONZE_FRESHNESS)
        assert not missing.passed and f"partition {day}" in missing.description
        cursor = alert_tick(alert_tick(None))
        assert len(receiver.texts) == 2, "one alert per newly failing check, none at the second tick"
        bronze_alert = next(text for text in receiver.texts if "bronze/tmdb_movies" in text)
        assert bronze_alert.startswith("Freshness check failed: bronze/tmdb_movies:freshness_check (ERROR)\n")
        assert f"partition {day}" in bronze_alert and "http://127.0.0.1:3000/assets/bronze/tmdb_movies" in bronze_alert

        # A past day lands only as a refetch (TMDB serves current values only).
        backfill = bronze_job(defs).execute_in_process(partition_key=yesterday, instance=instance, run_config=REFETCH_RUN_CONFIG)
        assert backfill.success
        assert SNAPSHOT_FRESHNESS not in evaluate_due_freshness_checks(defs, instance), "a failed check waits for its asset"
        assert not latest(instance, BRONZE_FRESHNESS).passed, "yesterday's partition is not today's"
        # Dagster ran the asset's freshness check with it; the run's summary keeps it apart
        # from the checks of the day the run built.
        summary = summarize_events(backfill.run_id, yesterday, True, instance.all_logs(backfill.run_id))
        assert [(check.name, check.passed) for check in summary.freshness] == [(BRONZE_FRESHNESS.to_user_string(), False)]
        assert summary.checks and not summary.checks_failed
        cursor = alert_tick(cursor)
        assert len(receiver.texts) == 2, "a check still failing is not alerted again"

        assert bronze_job(defs).execute_in_process(partition_key=day, instance=instance).success
        evaluate_due_freshness_checks(defs, instance)
        landed = latest(instance, BRONZE_FRESHNESS)
        assert landed.passed, landed.description
        assert json.loads(alert_tick(cursor)) == [SNAPSHOT_FRESHNESS.to_user_string()], "bronze left the alerted set"
        assert len(receiver.texts) == 2
        assert evaluate_due_freshness_checks(defs, instance) == set(), "a passed check is not due before its next deadline"


def test_snapshot_freshness_fails_past_26_hours_and_passes_within(tmp_path, sample_data, dbt_manifest):
    defs = build_definitions(make_settings(tmp_path))
    (tmp_path / "dagster_home").mkdir()

    def published(hours_ago: float) -> AssetMaterialization:
        # Dagster's freshness checks date an update by this metadata when it is present.
        stamp = datetime.now(UTC) - timedelta(hours=hours_ago)
        return AssetMaterialization(PUBLISHED_SNAPSHOT, metadata={"dagster/last_updated_timestamp": TimestampMetadataValue(stamp.timestamp())})

    with DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        instance.report_runless_asset_event(published(hours_ago=27))
        assert SNAPSHOT_FRESHNESS in evaluate_due_freshness_checks(defs, instance)
        assert not latest(instance, SNAPSHOT_FRESHNESS).passed, "27 hours is past the 26 allowed"
        instance.report_runless_asset_event(published(hours_ago=25))
        assert SNAPSHOT_FRESHNESS in evaluate_due_freshness_checks(defs, instance), "a new publication re-evaluates it"
        assert latest(instance, SNAPSHOT_FRESHNESS).passed, latest(instance, SNAPSHOT_FRESHNESS).description
