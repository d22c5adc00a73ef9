"""The configuration contract (:class:`movie_assets.settings.Settings`) and what a deployment
is built from it.

Covered: the defaults; relative paths taken from the repository root; empty variables
counting as unset; ``.env`` read, with the environment winning over it; malformed or
out-of-range values reported by variable name without their value; ``TMDB_SOURCE=live``
refused without credentials; secrets kept out of every rendering of the settings and of the
resources; nothing written to ``os.environ``; the ``tmdb`` resource chosen by
``TMDB_SOURCE`` and the live one reading its credentials from the environment at run time.
"""

import json
import os
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from movie_assets.definitions import build_resources
from movie_assets.partitions import build_daily_partitions
from movie_assets.settings import DEFAULT_SAMPLE_INPUT_DIR, REPO_ROOT, InvalidSettings, Settings, describe_settings_error
from movie_assets.tmdb.resources import SnapshotTMDBResource, TMDBResource

SECRET = "tmdb-secret-0f9c2e7d41"
CREDENTIALS = ("TMDB_READ_ACCESS_TOKEN", "TMDB_API_KEY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TMDB_/MOVIES_ variable of the developer's shell, and no repository ``.env`` for a
    bare ``Settings()`` (the live resource's run-time read)."""
    for name in list(os.environ):
        if name.upper().startswith(("TMDB_", "MOVIES_")):
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


def load(**values) -> Settings:
    """Settings from the environment and ``values``, with no ``.env``."""
    return Settings(_env_file=None, **values)


def load_error(monkeypatch: pytest.MonkeyPatch, **variables: str) -> str:
    """:func:`describe_settings_error` of the load with these environment variables, which must fail."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        load()
    return describe_settings_error(error.value)


def test_defaults():
    settings = load()
    assert settings.tmdb_source == "snapshot"
    assert settings.tmdb_base_url == "https://api.themoviedb.org/3"
    assert (settings.tmdb_read_access_token, settings.tmdb_api_key, settings.has_tmdb_credentials) == (None, None, False)
    assert (settings.tmdb_rate_limit, settings.tmdb_max_concurrency, settings.tmdb_timeout, settings.tmdb_max_retries) == (40.0, 8, 10.0, 5)
    assert settings.duckdb_path == REPO_ROOT / "data" / "warehouse.duckdb"
    assert settings.reports_dir == REPO_ROOT / "data" / "reports"
    assert settings.input_dir == DEFAULT_SAMPLE_INPUT_DIR
    assert settings.tmdb_snapshot_dir == DEFAULT_SAMPLE_INPUT_DIR / "tmdb"
    assert (settings.partition_start, settings.schedule_enabled) == (date(2026, 1, 1), True)
    assert (settings.duckdb_lock_timeout, settings.duckdb_memory_limit) == (60.0, "3GB")
    assert settings.lake_dir == REPO_ROOT / "data" / "lake"
    assert settings.build_duckdb_path == REPO_ROOT / "data" / "build" / "warehouse.duckdb"
    assert (settings.serving_dir, settings.serving_keep) == (REPO_ROOT / "data" / "serving", 3)
    # Snapshots in the format DuckDB 1.1 reads (README, "Storage tiers").
    assert settings.serving_storage_version == "v1.1.0"
    # dbt builds in the private build file and reads bronze from the lake.
    assert settings.dbt_profile_vars() == {
        "engine": "duckdb",
        "duckdb_path": str(REPO_ROOT / "data" / "build" / "warehouse.duckdb"),
        "memory_limit": "3GB",
        "lake_dir": str(REPO_ROOT / "data" / "lake"),
        "observation_grace_hours": "6",
        "spark_master": "local[*]",
        "spark_warehouse": str(REPO_ROOT / "data" / "spark-warehouse"),
        "spark_driver_memory": "2g",
    }


def test_variables_set_every_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    variables = {
        "TMDB_SOURCE": " Live ",
        "TMDB_BASE_URL": "http://127.0.0.1:8000/3/",
        "TMDB_API_KEY": SECRET,
        "TMDB_RATE_LIMIT": "12.5",
        "TMDB_MAX_CONCURRENCY": "3",
        "TMDB_TIMEOUT": "2",
        "TMDB_MAX_RETRIES": "0",
        "MOVIES_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "MOVIES_INPUT_DIR": str(tmp_path / "in"),
        "MOVIES_REPORTS_DIR": str(tmp_path / "out"),
        "MOVIES_PARTITION_START": "2026-03-01",
        "MOVIES_SCHEDULE_ENABLED": "false",
        "MOVIES_DUCKDB_LOCK_TIMEOUT": "0",
        "MOVIES_DUCKDB_MEMORY_LIMIT": "1GB",
        "MOVIES_ENGINE": " Spark ",
        "MOVIES_SPARK_MASTER": "spark://10.0.0.5:7077",
        "MOVIES_SPARK_WAREHOUSE": str(tmp_path / "sw"),
        "MOVIES_SPARK_DRIVER_MEMORY": "6g",
        "MOVIES_DBT_ARTIFACTS_KEEP": "5",
        "MOVIES_OBSERVATION_GRACE_HOURS": "0",
        "MOVIES_SERVING_STORAGE_VERSION": " latest ",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings = load()
    assert (settings.tmdb_source, settings.tmdb_base_url) == ("live", "http://127.0.0.1:8000/3")
    assert settings.tmdb_api_key.get_secret_value() == SECRET
    assert (settings.tmdb_rate_limit, settings.tmdb_max_concurrency, settings.tmdb_timeout, settings.tmdb_max_retries) == (12.5, 3, 2.0, 0)
    assert (settings.duckdb_path, settings.input_dir, settings.reports_dir) == (tmp_path / "w.duckdb", tmp_path / "in", tmp_path / "out")
    assert (settings.partition_start, settings.schedule_enabled) == (date(2026, 3, 1), False)
    assert (settings.duckdb_lock_timeout, settings.duckdb_memory_limit) == (0.0, "1GB")
    assert (settings.engine, settings.spark_master, settings.spark_warehouse, settings.spark_driver_memory) == (
        "spark",
        "spark://10.0.0.5:7077",
        tmp_path / "sw",
        "6g",
    )
    assert settings.dbt_artifacts_keep == 5
    assert settings.observation_grace_hours == 0
    assert build_resources(settings)["dbt"].artifacts_keep == 5
    assert settings.serving_storage_version == "latest"
    assert build_resources(settings)["serving"].storage_version == "latest"


def test_relative_paths_are_taken_from_the_repository_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # Not from the working directory: dagster dev, the CLI and a notebook all start elsewhere.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOVIES_DUCKDB_PATH", "elsewhere/w.duckdb")
    monkeypatch.setenv("MOVIES_INPUT_DIR", "../shared/data")
    settings = load(reports_dir=Path("out/reports"))
    assert settings.duckdb_path == REPO_ROOT / "elsewhere" / "w.duckdb"
    assert settings.input_dir == Path(os.path.abspath(REPO_ROOT.parent / "shared" / "data"))
    assert settings.reports_dir == REPO_ROOT / "out" / "reports"


def test_the_readers_link_stays_a_link(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # MOVIES_DUCKDB_PATH names a link to the published snapshot: a relative path must give the
    # link's own absolute path, or publishing would replace the snapshot file instead of the link.
    monkeypatch.setattr("movie_assets.settings.REPO_ROOT", tmp_path)
    (tmp_path / "data" / "serving").mkdir(parents=True)
    (tmp_path / "data" / "serving" / "snapshot.duckdb").write_bytes(b"")
    (tmp_path / "data" / "warehouse.duckdb").symlink_to("serving/snapshot.duckdb")
    monkeypatch.setenv("MOVIES_DUCKDB_PATH", "data/warehouse.duckdb")
    assert load().duckdb_path == tmp_path / "data" / "warehouse.duckdb"


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch):
    defaults = load()
    for name in ("TMDB_SOURCE", "TMDB_RATE_LIMIT", "MOVIES_DUCKDB_PATH", "MOVIES_SCHEDULE_ENABLED", *CREDENTIALS):
        monkeypatch.setenv(name, "")
    assert load() == defaults


def test_blank_credentials_are_no_credentials(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TMDB_API_KEY", "   ")
    assert load().tmdb_api_key is None
    message = load_error(monkeypatch, TMDB_SOURCE="live")
    assert all(name in message for name in CREDENTIALS)


def test_dotenv_is_read_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("TMDB_RATE_LIMIT=12\nMOVIES_SCHEDULE_ENABLED=false\nTMDB_API_KEY=from-dotenv\n", encoding="utf-8")
    settings = Settings(_env_file=dotenv)
    assert (settings.tmdb_rate_limit, settings.schedule_enabled) == (12.0, False)
    assert settings.tmdb_api_key.get_secret_value() == "from-dotenv"
    monkeypatch.setenv("TMDB_RATE_LIMIT", "30")
    monkeypatch.setenv("TMDB_API_KEY", "from-environment")
    settings = Settings(_env_file=dotenv)
    assert (settings.tmdb_rate_limit, settings.schedule_enabled) == (30.0, False)
    assert settings.tmdb_api_key.get_secret_value() == "from-environment"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TMDB_RATE_LIMIT", "fast-7d2a"),
        ("TMDB_RATE_LIMIT", "0"),
        ("TMDB_MAX_CONCURRENCY", "-2"),
        ("TMDB_MAX_CONCURRENCY", "2.5"),
        ("TMDB_TIMEOUT", "-1"),
        ("TMDB_MAX_RETRIES", "-1"),
        ("TMDB_SOURCE", "offline-7d2a"),
        ("MOVIES_PARTITION_START", "03/01/2026"),
        ("MOVIES_SCHEDULE_ENABLED", "sometimes-7d2a"),
        ("MOVIES_DUCKDB_LOCK_TIMEOUT", "-5"),
        ("MOVIES_OBSERVATION_GRACE_HOURS", "25"),
        ("MOVIES_OBSERVATION_GRACE_HOURS", "-1"),
        ("MOVIES_SERVING_STORAGE_VERSION", "v1.7d2a"),
        ("MOVIES_SERVING_STORAGE_VERSION", "v9.0.0"),
    ],
)
def test_a_bad_value_is_reported_by_variable_name(monkeypatch: pytest.MonkeyPatch, variable: str, value: str):
    message = load_error(monkeypatch, **{variable: value})
    assert message.startswith(f"{variable}: ")
    # The values are left out (marked 7d2a where not a number): in a credential's place a
    # value would be the secret.
    assert "7d2a" not in message


def test_every_bad_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch):
    message = load_error(monkeypatch, TMDB_RATE_LIMIT="x", MOVIES_PARTITION_START="y", TMDB_API_KEY=SECRET)
    assert "TMDB_RATE_LIMIT" in message and "MOVIES_PARTITION_START" in message
    assert SECRET not in message


def test_live_without_credentials_is_refused_naming_both_variables(monkeypatch: pytest.MonkeyPatch):
    message = load_error(monkeypatch, TMDB_SOURCE="live")
    assert all(name in message for name in CREDENTIALS)
    assert "TMDB_SOURCE=live" in message and "snapshot" in message


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_live_with_a_credential_validates(monkeypatch: pytest.MonkeyPatch, credential: str):
    monkeypatch.setenv("TMDB_SOURCE", "live")
    monkeypatch.setenv(credential, SECRET)
    settings = load()
    assert settings.tmdb_source == "live" and settings.has_tmdb_credentials


def test_describe_settings_error_passes_other_errors_through():
    assert describe_settings_error(RuntimeError("disk full")) == "disk full"


def test_secrets_appear_in_no_rendering_of_the_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TMDB_SOURCE", "live")
    monkeypatch.setenv("TMDB_API_KEY", SECRET)
    monkeypatch.setenv("TMDB_READ_ACCESS_TOKEN", SECRET + "-token")
    settings = load()
    renderings = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump()), f"{settings}"]
    assert all(SECRET not in text for text in renderings)
    assert settings.tmdb_api_key.get_secret_value() == SECRET


def test_settings_never_write_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"TMDB_SOURCE=live\nTMDB_API_KEY={SECRET}\nMOVIES_DUCKDB_PATH={tmp_path / 'w.duckdb'}\nMOVIES_DUCKDB_MEMORY_LIMIT=1GB\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TMDB_RATE_LIMIT", "7")
    before = dict(os.environ)
    settings = Settings(_env_file=dotenv)
    build_resources(settings)
    build_daily_partitions(settings)
    assert dict(os.environ) == before


def test_snapshot_deployment_gets_the_snapshot_resource(tmp_path: Path):
    settings = load(tmdb_source="snapshot", duckdb_path=tmp_path / "w.duckdb", input_dir=tmp_path / "in")
    tmdb = build_resources(settings)["tmdb"]
    assert isinstance(tmdb, SnapshotTMDBResource)
    assert tmdb.source == "snapshot"
    assert tmdb.snapshot_dir == str(tmp_path / "in" / "tmdb")


def test_live_deployment_gets_the_api_resource_without_secrets_in_its_config(tmp_path: Path):
    settings = load(
        tmdb_source="live",
        tmdb_api_key=SECRET,
        tmdb_read_access_token=SECRET + "-token",
        tmdb_base_url="https://tmdb.example/3",
        tmdb_rate_limit=9.0,
        duckdb_path=tmp_path / "w.duckdb",
        build_duckdb_path=tmp_path / "build.duckdb",
        lake_dir=tmp_path / "lake",
    )
    resources = build_resources(settings)
    tmdb = resources["tmdb"]
    assert type(tmdb) is TMDBResource
    assert (tmdb.source, tmdb.base_url, tmdb.rate_limit) == ("live", "https://tmdb.example/3", 9.0)
    # The resource's configuration is what the Dagster UI shows.
    assert all(SECRET not in text for text in (repr(tmdb), str(tmdb.model_dump()), tmdb.model_dump_json(), repr(resources)))
    assert json.loads(resources["dbt"].profile_vars) == settings.dbt_profile_vars()
    assert settings.dbt_profile_vars()["duckdb_path"] == str(tmp_path / "build.duckdb")


def test_live_resource_reads_its_credentials_from_the_environment_at_run_time(monkeypatch: pytest.MonkeyPatch):
    tmdb = TMDBResource(base_url="http://127.0.0.1:9/3")
    monkeypatch.setenv("TMDB_SOURCE", "live")
    with pytest.raises(InvalidSettings, match="TMDB_API_KEY"):
        tmdb.get_client()
    monkeypatch.setenv("TMDB_READ_ACCESS_TOKEN", SECRET)
    client = tmdb.get_client()
    try:
        assert client.session.headers["Authorization"] == f"Bearer {SECRET}"
        assert client.base_url == "http://127.0.0.1:9/3"
    finally:
        client.close()
