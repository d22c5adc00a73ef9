"""The product's configuration contract: one :class:`Settings` object read from the environment
and from ``.env`` in the repository root (pydantic-settings).

Every variable here is part of the public interface (README, "Configuration"). Nothing here
writes to ``os.environ``: resources and the dbt invocation receive their values from a
``Settings`` instance, so a child process (dbt) is told the warehouse path explicitly.
"""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE_INPUT_DIR = REPO_ROOT.parent / "shared" / "data"

#: The oldest DuckDB release that opens every published table (README, "Storage tiers"): its
#: format holds every type gold and silver use. DuckDB 1.0.x reads the same format but fails
#: on a list column whose lists are all empty (silver.audience_ratings.quality_flags).
DEFAULT_SERVING_STORAGE_VERSION = "v1.1.0"

TMDBSource = Literal["snapshot", "live"]
Engine = Literal["duckdb", "spark"]


class LiveSourceWithoutCredentials(ValueError):
    """``TMDB_SOURCE=live`` without ``TMDB_READ_ACCESS_TOKEN`` or ``TMDB_API_KEY``."""


class InvalidSettings(ValueError):
    """The configuration does not validate; the message names each variable and the problem,
    never a value (pydantic's own error would print the inputs, credentials included)."""


class Settings(BaseSettings):
    """Resolved configuration; field names are the environment variables (case-insensitive).

    Attributes:
        tmdb_source: ``snapshot`` (default: the bundled replay server over
            ``$MOVIES_INPUT_DIR/tmdb``, values observed in 2017) or ``live`` (the TMDB API,
            credentials required). Recorded in bronze rows and the reports.
        tmdb_base_url: TMDB API v3 root for ``live``, e.g. ``https://api.themoviedb.org/3``.
        tmdb_read_access_token: v4 bearer token, or None. A ``SecretStr``: never printed.
        tmdb_api_key: v3 key sent as the ``api_key`` query parameter, or None. Never printed.
        tmdb_rate_limit: requests/second allowed across all threads.
        tmdb_max_concurrency: worker threads fetching details.
        tmdb_timeout: connect and read timeout, seconds.
        tmdb_max_retries: retries per request on 429/5xx/connection errors.
        duckdb_path: the readers' warehouse path (``MOVIES_DUCKDB_PATH``): a symlink to the
            newest published snapshot, opened read-only by notebooks, the dashboard and BI tools.
        lake_dir: the lake (``MOVIES_LAKE_DIR``): bronze as Parquet files, Hive-partitioned.
        build_duckdb_path: the runs' private workspace (``MOVIES_BUILD_DUCKDB_PATH``): the DuckDB
            file dbt builds silver and gold in; only runs open it.
        serving_dir: where published snapshots are written (``MOVIES_SERVING_DIR``).
        serving_keep: how many published snapshots to keep (``MOVIES_SERVING_KEEP``, >= 1).
        gate_max_non_null_drop: publication is stopped when a profiled gold column's non-null
            share falls by more than this since the last publication (``MOVIES_GATE_MAX_NON_NULL_DROP``,
            0-1 absolute, default 0.2).
        gate_max_row_loss: ... when a gold table loses more than this share of its rows, or a
            profiled column of its distinct values per row (``MOVIES_GATE_MAX_ROW_LOSS``, 0-1, default 0.5).
        gate_min_volume_ratio: ... when today's landed TMDB movies are fewer than this share of
            the previous day's (``MOVIES_GATE_MIN_VOLUME_RATIO``, 0-1, default 0.5; 0 turns it off,
            e.g. for incremental ``changes`` runs).
        serving_storage_version: the DuckDB storage version snapshots are written in
            (``MOVIES_SERVING_STORAGE_VERSION``): a DuckDB release such as ``v1.1.0``, the oldest
            DuckDB meant to open them, or ``latest`` (the build file's own format, a byte copy).
        dbt_artifacts_keep: how many dbt invocations' artifact folders to keep per dbt asset
            definition (``MOVIES_DBT_ARTIFACTS_KEEP``, >= 1): ``dbt_project/target/<asset>-<run>-<id>``,
            3-8 MB each on the sample (manifest, run results, compiled SQL, ``dbt.log``).
        input_dir: folder laid out like ``../shared/data`` (``tmdb/``, ``ids/``, ``providers/``).
        reports_dir: folder for the Excel workbook, CSV exports and ``charts/``.
        partition_start: first daily partition (UTC day).
        schedule_enabled: whether the 06:00 UTC schedule starts switched on.
        duckdb_lock_timeout: seconds a run waits for another process to release the warehouse.
        run_wait_timeout: seconds ``make run`` / ``make backfill`` wait for another run writing
            the build file (another ``make run``, or a run of ``make dev``) before refusing to start.
        duckdb_memory_limit: DuckDB ``memory_limit`` of the dbt builds, e.g. ``3GB``.
        observation_grace_hours: hours after a UTC day ends during which a TMDB fetch still
            counts as that day's observation (``MOVIES_OBSERVATION_GRACE_HOURS``, 0-24, default
            6): a run retried just after midnight observes its day; later ones are late
            (README, "Backfills").
        dashboard_port: TCP port on 127.0.0.1 of the analysts' dashboard (``make dashboard``).
        engine: what dbt builds silver and gold with (``MOVIES_ENGINE``): ``duckdb`` (default,
            in ``build_duckdb_path``) or ``spark`` (dbt-spark through a PySpark session, tables
            as Parquet under ``spark_warehouse``, mirrored into ``build_duckdb_path`` for the
            checks, reports and the publish step).
        spark_master: ``spark.master`` of the Spark engine (``MOVIES_SPARK_MASTER``), e.g.
            ``local[*]`` (default: in the dbt process) or ``spark://host:7077`` (a cluster).
        spark_warehouse: the Spark engine's warehouse (``MOVIES_SPARK_WAREHOUSE``): its tables'
            Parquet folders and, under ``metastore/``, the catalog that names them.
        spark_driver_memory: ``spark.driver.memory`` of the dbt process (``MOVIES_SPARK_DRIVER_MEMORY``),
            e.g. ``2g``; with ``local[*]`` the driver also runs the tasks.
        webserver_port: TCP port on 127.0.0.1 of the service's Dagster UI and GraphQL
            (``MOVIES_WEBSERVER_PORT``).
        webserver_url: the Dagster UI's address as the readers of an alert reach it
            (``MOVIES_WEBSERVER_URL``), e.g. ``https://dagster.example.org``; None:
            ``http://127.0.0.1:<webserver_port>``. Alerts link ``<url>/runs/<run id>``.
        alert_webhook_url: where alerts are POSTed as Slack's ``{"text": …}`` JSON
            (``MOVIES_ALERT_WEBHOOK_URL``), e.g. a Slack incoming webhook; None: no alerts
            (the alert sensors skip, saying so). A ``SecretStr``: never printed.
        bronze_deadline_utc: the UTC time of day by which today's ``bronze/tmdb_movies``
            partition has landed (``MOVIES_BRONZE_DEADLINE_UTC``, ``HH:MM``).
        snapshot_max_age_hours: the published snapshot's largest acceptable age, hours
            (``MOVIES_SNAPSHOT_MAX_AGE_HOURS``).
        service_dir: the service's own files (``MOVIES_SERVICE_DIR``, ``make up``): its Dagster
            instance folder ``dagster_home/``, the supervisor's config, PID file and socket, the
            workspace file and ``state.json`` (the webserver's URL while the service is up).
        log_dir: the service's logs (``MOVIES_LOG_DIR``): one file per process, and one per
            run submitted by ``make run`` to the service under ``runs/``.
        pg_dir: the local PostgreSQL cluster of the service (``MOVIES_PG_DIR``), created once
            by ``make up`` with ``initdb``; unused when ``dagster_pg_url`` is set.
        pg_port: TCP port on 127.0.0.1 of that local cluster (``MOVIES_PG_PORT``).
        dagster_pg_url: an existing PostgreSQL for the service's Dagster storage
            (``MOVIES_DAGSTER_PG_URL``, ``postgresql://user:password@host:port/db``), or None
            for the local cluster. A ``SecretStr``: never printed or written to a file.
        code_server_port: TCP port on 127.0.0.1 of the service's code server (gRPC,
            ``MOVIES_CODE_SERVER_PORT``), which the webserver and the daemon load the code from.
        serving_pg_url: the PostgreSQL database the audited star schema is also published to
            for BI tools (``MOVIES_SERVING_PG_URL``, ``postgresql://loader[:password]@host:port/db``,
            the loader role), or None: that publication is skipped. ``make up`` sets it for its
            runs to the service's own database when unset. A ``SecretStr``: never printed.
        serving_pg_reader_password: the password given to the ``movies_reader`` role at each
            publication (``MOVIES_SERVING_PG_READER_PASSWORD``), or None to leave it as it is
            (sent as a SCRAM verifier, never in clear). A ``SecretStr``: never printed.

    Relative paths are taken from the repository root. Empty variables count as unset.

    Raises:
        pydantic.ValidationError: a value is malformed or out of range, or ``TMDB_SOURCE=live``
            has no credentials (the message names both credential variables).
    """

    model_config = SettingsConfigDict(
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    tmdb_source: TMDBSource = "snapshot"
    tmdb_base_url: str = "https://api.themoviedb.org/3"
    tmdb_read_access_token: SecretStr | None = None
    tmdb_api_key: SecretStr | None = None
    tmdb_rate_limit: PositiveFloat = 40.0
    tmdb_max_concurrency: PositiveInt = 8
    tmdb_timeout: PositiveFloat = 10.0
    tmdb_max_retries: NonNegativeInt = 5
    duckdb_path: Path = Field(default=Path("data/warehouse.duckdb"), alias="MOVIES_DUCKDB_PATH")
    lake_dir: Path = Field(default=Path("data/lake"), alias="MOVIES_LAKE_DIR")
    build_duckdb_path: Path = Field(default=Path("data/build/warehouse.duckdb"), alias="MOVIES_BUILD_DUCKDB_PATH")
    serving_dir: Path = Field(default=Path("data/serving"), alias="MOVIES_SERVING_DIR")
    serving_keep: PositiveInt = Field(default=3, alias="MOVIES_SERVING_KEEP")
    gate_max_non_null_drop: float = Field(default=0.2, ge=0, le=1, alias="MOVIES_GATE_MAX_NON_NULL_DROP")
    gate_max_row_loss: float = Field(default=0.5, ge=0, le=1, alias="MOVIES_GATE_MAX_ROW_LOSS")
    gate_min_volume_ratio: float = Field(default=0.5, ge=0, le=1, alias="MOVIES_GATE_MIN_VOLUME_RATIO")
    serving_storage_version: str = Field(default=DEFAULT_SERVING_STORAGE_VERSION, alias="MOVIES_SERVING_STORAGE_VERSION")
    dbt_artifacts_keep: PositiveInt = Field(default=30, alias="MOVIES_DBT_ARTIFACTS_KEEP")
    input_dir: Path = Field(default=DEFAULT_SAMPLE_INPUT_DIR, alias="MOVIES_INPUT_DIR")
    reports_dir: Path = Field(default=Path("data/reports"), alias="MOVIES_REPORTS_DIR")
    partition_start: date = Field(default=date(2026, 1, 1), alias="MOVIES_PARTITION_START")
    schedule_enabled: bool = Field(default=True, alias="MOVIES_SCHEDULE_ENABLED")
    duckdb_lock_timeout: NonNegativeFloat = Field(default=60.0, alias="MOVIES_DUCKDB_LOCK_TIMEOUT")
    run_wait_timeout: NonNegativeFloat = Field(default=3600.0, alias="MOVIES_RUN_WAIT_TIMEOUT")
    duckdb_memory_limit: str = Field(default="3GB", alias="MOVIES_DUCKDB_MEMORY_LIMIT")
    observation_grace_hours: int = Field(default=6, ge=0, le=24, alias="MOVIES_OBSERVATION_GRACE_HOURS")
    dashboard_port: int = Field(default=8501, ge=1, le=65535, alias="MOVIES_DASHBOARD_PORT")
    engine: Engine = Field(default="duckdb", alias="MOVIES_ENGINE")
    spark_master: str = Field(default="local[*]", min_length=1, alias="MOVIES_SPARK_MASTER")
    spark_warehouse: Path = Field(default=Path("data/spark-warehouse"), alias="MOVIES_SPARK_WAREHOUSE")
    spark_driver_memory: str = Field(default="2g", pattern=r"^[0-9]+[kmgtKMGT]?$", alias="MOVIES_SPARK_DRIVER_MEMORY")
    webserver_port: int = Field(default=3000, ge=1, le=65535, alias="MOVIES_WEBSERVER_PORT")
    webserver_url: str | None = Field(default=None, pattern=r"^https?://[^/\s]+(/\S*)?$", alias="MOVIES_WEBSERVER_URL")
    alert_webhook_url: SecretStr | None = Field(default=None, alias="MOVIES_ALERT_WEBHOOK_URL")
    bronze_deadline_utc: time = Field(default=time(8, 0), alias="MOVIES_BRONZE_DEADLINE_UTC")
    snapshot_max_age_hours: PositiveFloat = Field(default=26.0, alias="MOVIES_SNAPSHOT_MAX_AGE_HOURS")
    service_dir: Path = Field(default=Path("data/service"), alias="MOVIES_SERVICE_DIR")
    log_dir: Path = Field(default=Path("data/logs"), alias="MOVIES_LOG_DIR")
    pg_dir: Path = Field(default=Path("data/postgres"), alias="MOVIES_PG_DIR")
    pg_port: int = Field(default=5433, ge=1, le=65535, alias="MOVIES_PG_PORT")
    dagster_pg_url: SecretStr | None = Field(default=None, alias="MOVIES_DAGSTER_PG_URL")
    code_server_port: int = Field(default=4266, ge=1, le=65535, alias="MOVIES_CODE_SERVER_PORT")
    serving_pg_url: SecretStr | None = Field(default=None, alias="MOVIES_SERVING_PG_URL")
    serving_pg_reader_password: SecretStr | None = Field(default=None, alias="MOVIES_SERVING_PG_READER_PASSWORD")

    @field_validator("tmdb_source", "engine", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("tmdb_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @field_validator("tmdb_read_access_token", "tmdb_api_key", "dagster_pg_url", "serving_pg_url", "serving_pg_reader_password")
    @classmethod
    def _blank_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_is_http(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        url = value.get_secret_value().strip()
        # The value is a secret: the message says what is wrong, never what was given.
        if not url.startswith(("https://", "http://")) or any(character.isspace() for character in url):
            raise ValueError("must be an http:// or https:// URL without spaces")
        return SecretStr(url)

    @field_validator("bronze_deadline_utc")
    @classmethod
    def _whole_minute(cls, value: time) -> time:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError("must be a UTC time of day as HH:MM")
        return value

    @field_validator("serving_storage_version")
    @classmethod
    def _known_storage_version(cls, value: str) -> str:
        # DuckDB itself knows which releases it can write for: an in-memory database that is
        # given the version refuses one it does not know.
        value = value.strip()
        try:
            duckdb.connect(config={"storage_compatibility_version": value}).close()
        except duckdb.InvalidInputException:
            raise ValueError(
                f"not a storage version DuckDB {duckdb.__version__} can write: give a DuckDB release "
                f"such as {DEFAULT_SERVING_STORAGE_VERSION}, or latest"
            ) from None
        return value

    @field_validator(
        "duckdb_path",
        "lake_dir",
        "build_duckdb_path",
        "serving_dir",
        "input_dir",
        "reports_dir",
        "spark_warehouse",
        "service_dir",
        "log_dir",
        "pg_dir",
    )
    @classmethod
    def _from_repo_root(cls, value: Path) -> Path:
        # Made absolute without following links: MOVIES_DUCKDB_PATH is itself a link to the
        # published snapshot, and resolving it would name the snapshot instead of the link.
        path = value.expanduser()
        return Path(os.path.abspath(path if path.is_absolute() else REPO_ROOT / path))

    @model_validator(mode="after")
    def _live_needs_credentials(self) -> Settings:
        if self.tmdb_source == "live" and not self.has_tmdb_credentials:
            raise LiveSourceWithoutCredentials(
                "TMDB_SOURCE=live needs TMDB credentials: set TMDB_READ_ACCESS_TOKEN (v4 token) or "
                "TMDB_API_KEY (v3 key) in the environment or .env, or use TMDB_SOURCE=snapshot for "
                "the bundled offline snapshot"
            )
        return self

    @property
    def has_tmdb_credentials(self) -> bool:
        """True when a TMDB token or key is configured (values are never exposed here)."""
        return bool(self.tmdb_read_access_token or self.tmdb_api_key)

    @property
    def tmdb_snapshot_dir(self) -> Path:
        """``$MOVIES_INPUT_DIR/tmdb``: what the snapshot source replays."""
        return self.input_dir / "tmdb"

    @property
    def ui_url(self) -> str:
        """The Dagster UI's address for links in alerts, without a trailing slash:
        ``MOVIES_WEBSERVER_URL``, or ``http://127.0.0.1:<MOVIES_WEBSERVER_PORT>``."""
        return (self.webserver_url or f"http://127.0.0.1:{self.webserver_port}").rstrip("/")

    def dbt_profile_vars(self) -> dict[str, str]:
        """The dbt vars the project renders: ``engine`` (the profile's target), ``duckdb_path``
        (the build file dbt writes with DuckDB), ``memory_limit`` (e.g. ``3GB``), ``lake_dir``
        (where the bronze sources are read), ``observation_grace_hours`` (when a fetch
        counts as late, see :attr:`observation_grace_hours`) and, for Spark, ``spark_master``,
        ``spark_warehouse`` and ``spark_driver_memory``."""
        return {
            "engine": self.engine,
            "duckdb_path": str(self.build_duckdb_path),
            "memory_limit": self.duckdb_memory_limit,
            "lake_dir": str(self.lake_dir),
            "observation_grace_hours": str(self.observation_grace_hours),
            "spark_master": self.spark_master,
            "spark_warehouse": str(self.spark_warehouse),
            "spark_driver_memory": self.spark_driver_memory,
        }


def load_settings_or_explain() -> Settings:
    """:class:`Settings` from the environment and ``.env``.

    Raises:
        InvalidSettings: the configuration is invalid (message from :func:`describe_settings_error`).
    """
    try:
        return Settings()
    except ValueError as error:
        raise InvalidSettings(describe_settings_error(error)) from None


def describe_settings_error(error: Exception) -> str:
    """One readable line per problem of a failed :class:`Settings` load, without input values
    (which could be credentials)."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return str(error)
    lines = []
    for item in errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item.get("loc", ())) or "settings"
        message = item.get("msg", "invalid")
        lines.append(message.removeprefix("Value error, ") if where == "settings" else f"{where.upper()}: {message}")
    return "; ".join(lines)
