"""The one Dagster ``Definitions`` of the product: assets, checks, jobs, schedule, sensor, resources.

Importing this module does no work: ``defs`` is a lazy definitions function that Dagster
(``dagster dev``, ``dagster asset materialize -m movie_assets.definitions``) calls when it
loads the code location. It reads :class:`~movie_assets.settings.Settings` once and builds
everything from it with :func:`build_definitions`, which tests call with their own settings.
An invalid configuration (``TMDB_SOURCE=live`` without credentials, a malformed number)
fails the load, so no run can start.

The domains each contribute their part: ``tmdb`` (fetch, checks, dead-letter retry job),
``providers`` (deliveries and their sensor), ``transform`` (dbt models and tests),
``serving`` (write-audit-publish of the readers' snapshot), ``reports`` (workbook and charts)
and ``automation`` (the daily job and its schedule, freshness checks, alerts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from movie_assets.settings import Settings


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The resources of every asset, check, sensor and job, by resource key: ``tmdb`` (the
    live API or the snapshot server, by ``settings.tmdb_source``), ``lake`` (bronze Parquet),
    ``duckdb`` (the private build file), ``dbt`` (the dbt project, told the build file and the
    lake), ``serving`` (published snapshots and the readers' path), ``postgres_serving`` (the PostgreSQL
    publication's source and dbt manifest; its secrets are read when it runs), ``paths`` (input and
    report folders) and ``alert_webhook`` (alerts; the webhook URL is read when one is sent)."""
    from movie_assets.automation.alerts import AlertWebhook
    from movie_assets.paths import PipelinePaths
    from movie_assets.serving.assets import ServingResource
    from movie_assets.serving.postgres_asset import PostgresServingResource
    from movie_assets.tmdb.resources import build_tmdb_resource
    from movie_assets.transform.project import build_dbt_project, build_dbt_resource
    from movie_assets.warehouse.duckdb_resource import DuckDBWarehouseResource
    from movie_assets.warehouse.lake import LakeResource

    return {
        "tmdb": build_tmdb_resource(settings),
        "lake": LakeResource(root=str(settings.lake_dir)),
        "duckdb": DuckDBWarehouseResource(
            database=str(settings.build_duckdb_path),
            lock_timeout_seconds=settings.duckdb_lock_timeout,
            adopt_from=str(settings.duckdb_path),
        ),
        "serving": ServingResource(
            serving_dir=str(settings.serving_dir),
            readers_path=str(settings.duckdb_path),
            keep=settings.serving_keep,
            gate_max_non_null_drop=settings.gate_max_non_null_drop,
            gate_max_row_loss=settings.gate_max_row_loss,
            gate_min_volume_ratio=settings.gate_min_volume_ratio,
            storage_version=settings.serving_storage_version,
        ),
        "postgres_serving": PostgresServingResource(
            readers_path=str(settings.duckdb_path),
            manifest_path=str(build_dbt_project(settings).manifest_path),
        ),
        "dbt": build_dbt_resource(settings),
        "paths": PipelinePaths(input_dir=str(settings.input_dir), reports_dir=str(settings.reports_dir)),
        "alert_webhook": AlertWebhook(ui_url=settings.ui_url),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every definition of the product for ``settings``.

    Raises:
        dagster_dbt.errors.DagsterDbtManifestNotFoundError: the dbt manifest was never
            prepared (``make install``).
    """
    from movie_assets.automation.alerts import run_failure_alert_sensor
    from movie_assets.automation.freshness import build_freshness_alert_sensor, build_freshness_checks, build_freshness_checks_sensor
    from movie_assets.automation.jobs import build_daily_refresh_job, build_full_table_tests_job, build_retype_every_day_job
    from movie_assets.automation.schedules import build_daily_refresh_schedule, build_full_table_tests_schedule
    from movie_assets.partitions import build_daily_partitions
    from movie_assets.providers import assets as provider_assets
    from movie_assets.providers.sensor import provider_files_sensor
    from movie_assets.reports import charts, workbook
    from movie_assets.reports import checks as report_checks
    from movie_assets.serving.assets import build_publish_asset
    from movie_assets.serving.postgres_asset import postgres_publication
    from movie_assets.tmdb.assets import build_tmdb_assets
    from movie_assets.tmdb.checks import build_tmdb_checks
    from movie_assets.tmdb.retry_job import build_retry_dead_letters_job
    from movie_assets.transform import checks as transform_checks
    from movie_assets.transform.dbt_assets import build_dbt_assets
    from movie_assets.transform.project import build_dbt_project

    partitions = build_daily_partitions(settings)
    dbt_project = build_dbt_project(settings)
    dbt_project.prepare_if_dev()
    unpartitioned = [provider_assets, transform_checks, workbook, charts, report_checks]
    dbt_models = build_dbt_assets(dbt_project, partitions)
    unpartitioned_models, daily_silver_models, _ = dbt_models
    audited = [key for models in dbt_models for key in models.keys if key.path[0] in ("silver", "gold")]
    freshness_checks = build_freshness_checks(settings)
    daily_refresh = build_daily_refresh_job(partitions, without_checks=freshness_checks)
    full_table_tests = build_full_table_tests_job()
    # DuckDB allows one writing process: steps run one at a time in the run's own process;
    # runs queue one at a time (DAGSTER_HOME/dagster.yaml, see README "Storage tiers").
    return dg.Definitions(
        assets=[
            *build_tmdb_assets(partitions, settings.observation_grace_hours),
            *dbt_models,
            build_publish_asset(audited),
            postgres_publication,
            *dg.load_assets_from_modules(unpartitioned),
        ],
        asset_checks=[*build_tmdb_checks(partitions), *dg.load_asset_checks_from_modules(unpartitioned), *freshness_checks],
        jobs=[
            daily_refresh,
            full_table_tests,
            build_retype_every_day_job(daily_silver_models, unpartitioned_models),
            build_retry_dead_letters_job(partitions, settings.observation_grace_hours),
        ],
        schedules=[
            build_daily_refresh_schedule(daily_refresh, settings.schedule_enabled),
            build_full_table_tests_schedule(full_table_tests, settings.schedule_enabled),
        ],
        sensors=[
            provider_files_sensor,
            run_failure_alert_sensor,
            build_freshness_checks_sensor(freshness_checks),
            build_freshness_alert_sensor(freshness_checks),
        ],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location's definitions for the configuration in the environment and ``.env``.

    Raises:
        movie_assets.settings.InvalidSettings: the configuration is invalid (the message names
            the variable, never a value).
    """
    from movie_assets.settings import load_settings_or_explain

    return build_definitions(load_settings_or_explain())
