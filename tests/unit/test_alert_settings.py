"""The alert and freshness settings: defaults, validation without echoing the webhook URL, the
deadline's cron, the UI's address in links, and the message texts built from them."""

import json
import os
from datetime import time

import pytest
from dagster import AssetCheckEvaluation, AssetCheckKey, AssetCheckSeverity, AssetKey
from pydantic import ValidationError

from movie_assets.automation.alerts import FailedRun, run_failure_text
from movie_assets.automation.freshness import bronze_deadline_cron, freshness_failure_text
from movie_assets.definitions import build_resources
from movie_assets.settings import Settings, describe_settings_error

WEBHOOK = "https://hooks.slack.example/services/T0/B0/secret-4b1e9a"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("TMDB_", "MOVIES_")):
            monkeypatch.delenv(name)


def load(**variables: str) -> Settings:
    return Settings(_env_file=None, **variables)


def test_defaults():
    settings = load()
    assert settings.alert_webhook_url is None
    assert (settings.webserver_port, settings.webserver_url, settings.ui_url) == (3000, None, "http://127.0.0.1:3000")
    assert (settings.bronze_deadline_utc, bronze_deadline_cron(settings)) == (time(8, 0), "0 8 * * *")
    assert settings.snapshot_max_age_hours == 26.0


def test_variables_set_the_fields(monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "MOVIES_ALERT_WEBHOOK_URL": f" {WEBHOOK} ",
        "MOVIES_WEBSERVER_PORT": "3300",
        "MOVIES_BRONZE_DEADLINE_UTC": "07:45",
        "MOVIES_SNAPSHOT_MAX_AGE_HOURS": "30",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load()
    assert settings.alert_webhook_url.get_secret_value() == WEBHOOK
    assert settings.ui_url == "http://127.0.0.1:3300"
    assert bronze_deadline_cron(settings) == "45 7 * * *"
    assert settings.snapshot_max_age_hours == 30.0
    monkeypatch.setenv("MOVIES_WEBSERVER_URL", "https://dagster.example.org/")
    assert load().ui_url == "https://dagster.example.org"


def test_a_blank_webhook_is_no_webhook(monkeypatch: pytest.MonkeyPatch):
    assert load(MOVIES_ALERT_WEBHOOK_URL="   ").alert_webhook_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MOVIES_ALERT_WEBHOOK_URL", "hooks.slack.example/secret-4b1e9a"),
        ("MOVIES_ALERT_WEBHOOK_URL", "https://hooks.slack.example/secret-4b1e9a and more"),
        ("MOVIES_WEBSERVER_URL", "dagster-4b1e9a"),
        ("MOVIES_WEBSERVER_PORT", "70000"),
        ("MOVIES_BRONZE_DEADLINE_UTC", "8 o'clock 4b1e9a"),
        ("MOVIES_BRONZE_DEADLINE_UTC", "08:00:30"),
        ("MOVIES_SNAPSHOT_MAX_AGE_HOURS", "0"),
    ],
)
def test_a_bad_value_is_reported_by_variable_name_without_the_value(monkeypatch: pytest.MonkeyPatch, variable: str, value: str):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as error:
        load()
    message = describe_settings_error(error.value)
    assert message.startswith(f"{variable}: ")
    assert "4b1e9a" not in message


def test_the_webhook_url_is_in_no_rendering_of_the_settings_or_resources():
    settings = load(MOVIES_ALERT_WEBHOOK_URL=WEBHOOK)
    alert_webhook = build_resources(settings)["alert_webhook"]
    renderings = [repr(settings), settings.model_dump_json(), repr(alert_webhook), alert_webhook.model_dump_json()]
    assert all("secret-4b1e9a" not in text for text in renderings)
    assert json.loads(alert_webhook.model_dump_json())["ui_url"] == "http://127.0.0.1:3000"


def test_the_run_failure_text_names_job_partition_steps_checks_and_link():
    failed = FailedRun(
        job="daily_refresh",
        partition="2026-12-04",
        steps=[(f"step_{number}", f"ValueError: {number}") for number in range(12)],
        checks=[("bronze/tmdb_movies:tmdb_movies_partition_not_empty", "ERROR", "0 rows")],
        reason="Execution of run failed.",
        run_url="http://127.0.0.1:3000/runs/abc",
    )
    lines = run_failure_text(failed).splitlines()
    assert lines[0] == "Run failed: daily_refresh, partition 2026-12-04"
    assert lines[1:3] == ["Failed steps:", "  • step_0: ValueError: 0"]
    assert "  … and 2 more" in lines and "  • step_10: ValueError: 10" not in lines
    assert "  • bronze/tmdb_movies:tmdb_movies_partition_not_empty (ERROR): 0 rows" in lines
    assert not any(line.startswith("Reason:") for line in lines), "steps and checks say why"
    assert lines[-1] == "Run: http://127.0.0.1:3000/runs/abc"


def test_a_run_failed_outside_its_steps_gives_the_reason():
    text = run_failure_text(FailedRun("full_table_tests", None, [], [], "DagsterResourceFunctionError: no dbt", "u"))
    assert text == "Run failed: full_table_tests, no partition\nReason: DagsterResourceFunctionError: no dbt\nRun: u"


def test_the_freshness_text_names_check_verdict_asset_and_run():
    key = AssetCheckKey(AssetKey(["bronze", "tmdb_movies"]), "freshness_check")
    evaluation = AssetCheckEvaluation(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        description="Asset is overdue. We expected partition 2026-12-04 to have arrived, and it has not.",
    )
    assert freshness_failure_text(key, evaluation, "http://ui/", "r1") == (
        "Freshness check failed: bronze/tmdb_movies:freshness_check (ERROR)\n"
        "Asset is overdue. We expected partition 2026-12-04 to have arrived, and it has not.\n"
        "Asset: http://ui/assets/bronze/tmdb_movies\n"
        "Run: http://ui/runs/r1"
    )
