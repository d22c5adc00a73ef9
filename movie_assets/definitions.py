"""The one Dagster ``Definitions`` object: assets, checks, jobs, schedules, sensors, resources.

Resources are chosen by configuration (environment / ``.env``), never inside assets:
with TMDB credentials the live API, without them the snapshot server over
``$MOVIES_INPUT_DIR/tmdb`` on a free loopback port.

To add a layer or source, add its module to ``ASSET_MODULES``; ``@asset_check`` functions in
those modules are picked up too.
"""

from dagster import (
    Definitions,
    EnvVar,
    in_process_executor,
    load_asset_checks_from_modules,
    load_assets_from_modules,
)

from movie_assets.providers import assets as provider_assets
from movie_assets.tmdb import assets as tmdb_assets
from movie_assets.tmdb import checks as tmdb_checks
from movie_assets.transform import checks as transform_checks
from movie_assets.transform import dbt_assets
from movie_assets.tmdb.retry_job import retry_dead_letters_job
from movie_assets.reports import charts, workbook
from movie_assets.reports import checks as report_checks
from movie_assets.resources import DuckDBWarehouseResource, PipelinePaths, lock_timeout_from_env
from movie_assets.automation.schedules import daily_refresh_job, daily_refresh_schedule
from movie_assets.providers.sensor import provider_files_sensor
from movie_assets.settings import Settings, load_settings
from movie_assets.tmdb.client import SnapshotTMDBResource, TMDBResource

ASSET_MODULES = [
    tmdb_assets, tmdb_checks, provider_assets, dbt_assets, transform_checks, workbook, charts, report_checks,
]


def build_tmdb_resource(settings: Settings) -> TMDBResource:
    """The live API when credentials are configured, else the local snapshot server."""
    tuning = dict(
        rate_limit=settings.tmdb_rate_limit,
        max_concurrency=settings.tmdb_max_concurrency,
        timeout=settings.tmdb_timeout,
        max_retries=settings.tmdb_max_retries,
    )
    if settings.has_tmdb_credentials:
        # EnvVar keeps the secret out of the resource config shown in the UI.
        credentials = {}
        if settings.tmdb_read_access_token:
            credentials["read_access_token"] = EnvVar("TMDB_READ_ACCESS_TOKEN")
        if settings.tmdb_api_key:
            credentials["api_key"] = EnvVar("TMDB_API_KEY")
        return TMDBResource(base_url=settings.tmdb_base_url, **credentials, **tuning)
    return SnapshotTMDBResource(snapshot_dir=str(settings.input_dir / "tmdb"), **tuning)


def build_resources(settings: Settings) -> dict:
    """Resource instances for ``settings`` (also used by tests with a temp warehouse)."""
    return {
        "tmdb": build_tmdb_resource(settings),
        "duckdb": DuckDBWarehouseResource(
            database=str(settings.duckdb_path), lock_timeout_seconds=lock_timeout_from_env()
        ),
        "dbt": dbt_assets.WarehouseDbtCliResource(
            project_dir=dbt_assets.dbt_project, dbt_executable=dbt_assets.dbt_executable()
        ),
        "paths": PipelinePaths(input_dir=str(settings.input_dir), reports_dir=str(settings.reports_dir)),
    }


all_assets = load_assets_from_modules(ASSET_MODULES)
all_asset_checks = load_asset_checks_from_modules(ASSET_MODULES)

settings = load_settings()

# DuckDB allows one writing process: steps run one at a time in the run's own process;
# runs queue one at a time (DAGSTER_HOME/dagster.yaml, see README "DuckDB concurrency").
defs = Definitions(
    assets=all_assets,
    asset_checks=all_asset_checks,
    jobs=[daily_refresh_job, retry_dead_letters_job],
    schedules=[daily_refresh_schedule],
    sensors=[provider_files_sensor],
    resources=build_resources(settings),
    executor=in_process_executor,
)
