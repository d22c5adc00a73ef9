"""dbt silver and gold models as Dagster assets (dagster-dbt).

Model asset keys are ``[schema, model]`` (``["silver", "tmdb_movies"]``), sources keep
dagster-dbt's ``[source, table]`` (``["bronze", "tmdb_movies"]``), so the dbt graph
attaches to the Python bronze assets and lineage reads bronze → silver → gold in the UI.
Each dbt test becomes an asset check on the model it tests.

Three asset definitions, built by :func:`build_dbt_assets` when the definitions load (the
manifest is read then, not on import), because one ``@dbt_assets`` has one partitioning:

- ``movie_dbt_daily_silver``: silver's models tagged ``daily`` (``silver.tmdb_movie_snapshots``,
  ``silver.tmdb_movie_attribute_snapshots``), partitioned by day;
- ``movie_dbt_models``: every model not tagged ``daily``, unpartitioned (rebuilt from all of
  silver; ``gold.dim_movie_history`` is incremental and touches only the window's movies);
- ``movie_dbt_daily_gold``: gold's models tagged ``daily`` (``gold.fact_movie_daily``),
  partitioned by day.

A daily run builds them in that order, one dbt invocation each: the snapshots feed silver's
latest bodies and the calendar, which the fact reads. The day-by-day models are two
definitions rather than one because one would sit on both sides of the unpartitioned one, and
Dagster then splits the definitions into steps by their distance from the graph's roots
(``_attempt_resolve_node_cycles`` in dagster's ``asset_job.py``): four dbt steps, with the
provider models' silver alone in one of them.

Each partitioned run passes its partition window (:func:`dbt_window`) to dbt; a run without a
partition (a manual materialization, the weekly full-table tests) gets none, so every day is
built or tested, which is always exact.
"""

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetMaterialization, AssetObservation, AssetsDefinition, DailyPartitionsDefinition, Output
from dagster_dbt import DbtCliInvocation, DbtProject, dbt_assets

from movie_assets.partitions import ONE_DAY_PER_RUN, partition_window
from movie_assets.transform.project import WarehouseDbtCliResource, prune_invocation_folders
from movie_assets.transform.spark_tables import copy_spark_table
from movie_assets.transform.translator import MovieDbtTranslator
from movie_assets.warehouse.duckdb_resource import DuckDBWarehouseResource
from movie_assets.warehouse.metadata import table_metadata

DAILY_MODELS = "tag:daily"
DAILY_SILVER_MODELS = "tag:daily,path:models/silver"
DAILY_GOLD_MODELS = "tag:daily,path:models/gold"
# dbt's unit tests check the models' SQL on fixed inputs, not the day's data: they run in the
# test suite (tests/integration/test_dbt_unit_tests.py), as dbt advises, not in every run.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


def dbt_window(context: AssetExecutionContext) -> dict[str, str] | None:
    """The partition window a dbt step builds (:func:`movie_assets.partitions.partition_window`),
    or None, every day, for a step that builds no model: a run of checks alone tests whole
    tables."""
    return partition_window(context) if context.selected_asset_keys else None


def build_and_describe(
    context: AssetExecutionContext,
    dbt: WarehouseDbtCliResource,
    duckdb: DuckDBWarehouseResource,
) -> Iterator[Any]:
    """Run ``dbt build`` for the selected models and tests (without dbt's unit tests), with
    the run's partition window, and yield its Dagster events as dbt finishes each node.

    With Spark each built model is first copied from Spark's warehouse into the build file
    (:func:`movie_assets.transform.spark_tables.copy_spark_table`), so what follows reads the
    same tables with either engine, and its materialization carries the copy's
    :func:`movie_assets.warehouse.metadata.table_metadata`. With DuckDB dbt keeps the build
    file open for writing until it exits and no other process may open it meanwhile, so each
    built table's metadata follows once dbt has exited, as an ``AssetObservation``. The
    artifact folders of this asset's older invocations beyond the resource's
    ``artifacts_keep`` are deleted (:func:`movie_assets.transform.project.prune_invocation_folders`).

    Raises:
        dagster_dbt.DagsterDbtCliRuntimeError: dbt failed (after the events of the models and
            tests that did finish are yielded).
        DuckDBLockedError: another process kept the build file locked beyond the resource's
            lock timeout.
        SparkTableMissing: with Spark, a built model has no table in Spark's warehouse.
    """
    # dbt opens the file in a child process: wait here (bounded, with a clear error) for
    # another process to release it, rather than fail inside dbt with a raw lock error.
    duckdb.wait_until_writable()
    invocation = dbt.cli([*BUILD_ARGS, *dbt.vars_args()], context=context, window=dbt_window(context), raise_on_error=False)
    built: list[AssetKey] = []
    try:
        for event in invocation.stream():
            key = materialized_key(context, event)
            if key is not None and dbt.engine == "spark":
                event = event.with_metadata({**event.metadata, **copy_from_spark(duckdb, Path(dbt.spark_warehouse), key)})
            elif key is not None:
                built.append(key)
            yield event
    finally:
        # The step may stop between two events (a failed copy, a terminated run): dbt must not
        # go on writing, nor keep the build file locked for the next run.
        stop(invocation)
        deleted = prune_invocation_folders(invocation.target_path, dbt.artifacts_keep)
        if deleted:
            context.log.debug(f"deleted {len(deleted)} older dbt artifact folders of {context.op_execution_context.op.name}")
    partition = context.partition_key if context.assets_def.partitions_def is not None and context.has_partition_key else None
    if invocation.is_successful():
        yield from describe(duckdb, built, partition)
        return
    # After a failure too, the models dbt did build are in the file; the failure is dbt's.
    try:
        yield from describe(duckdb, built, partition)
    except Exception as error:
        context.log.warning(f"no table metadata after the failed dbt build: {error}")
    raise invocation.get_error()


def stop(invocation: DbtCliInvocation) -> None:
    """Interrupt ``invocation``'s dbt if it still runs (SIGINT, as dagster-dbt forwards a
    terminated run's), kill it after the invocation's ``termination_timeout_seconds``."""
    if invocation.process.poll() is not None:
        return
    invocation.process.send_signal(signal.SIGINT)
    try:
        invocation.process.wait(timeout=invocation.termination_timeout_seconds)
    except subprocess.TimeoutExpired:
        invocation.process.kill()
        invocation.process.wait()


def materialized_key(context: AssetExecutionContext, event: Any) -> AssetKey | None:
    """The asset key ``event`` materializes, or None for any other event (checks, observations)."""
    if isinstance(event, Output):
        return context.asset_key_for_output(event.output_name)
    if isinstance(event, AssetMaterialization):
        return event.asset_key
    return None


def copy_from_spark(duckdb: DuckDBWarehouseResource, warehouse: Path, key: AssetKey) -> dict[str, Any]:
    """Copy model ``key``'s Spark table from ``warehouse`` into the build file; the copy's
    :func:`movie_assets.warehouse.metadata.table_metadata`.

    Raises:
        SparkTableMissing: ``warehouse`` has no table for the model.
    """
    relation = ".".join(key.path)
    with duckdb.get_connection() as conn:
        copy_spark_table(conn, warehouse, relation)
        return table_metadata(conn, relation)


def describe(duckdb: DuckDBWarehouseResource, keys: list[AssetKey], partition: str | None = None) -> Iterator[AssetObservation]:
    """One ``AssetObservation`` per model in ``keys`` (of ``partition``, for a partitioned step
    of one day) with its table's :func:`movie_assets.warehouse.metadata.table_metadata` (row
    count, column schema, preview) from the build file; nothing for an empty ``keys``.

    Raises:
        duckdb.Error: a table cannot be read.
    """
    if not keys:
        return
    with duckdb.get_connection() as conn:
        for key in keys:
            yield AssetObservation(asset_key=key, partition=partition, metadata=table_metadata(conn, ".".join(key.path)))


def build_dbt_assets(project: DbtProject, partitions: DailyPartitionsDefinition) -> list[AssetsDefinition]:
    """The dbt models of ``project``'s manifest as three asset definitions, in this order:

    - ``movie_dbt_models``: every model but the daily ones, unpartitioned;
    - ``movie_dbt_daily_silver``: silver's daily models (the TMDB snapshots typed by day);
    - ``movie_dbt_daily_gold``: gold's daily models (the fact);

    the daily ones partitioned by ``partitions``, one day per backfill run. Each builds (runs
    and tests) its selected models with :func:`build_and_describe`: a partitioned one empties
    and inserts its window's days and tests those days; a run of the daily models' checks
    alone builds no model and gets no window.

    Raises:
        dagster_dbt.errors.DagsterDbtManifestNotFoundError: the manifest is missing (run
            ``make install``).
    """
    translator = MovieDbtTranslator()

    def definition(name: str, daily: bool, **selection: str) -> AssetsDefinition:
        @dbt_assets(
            manifest=project.manifest_path,
            dagster_dbt_translator=translator,
            project=project,
            name=name,
            partitions_def=partitions if daily else None,
            backfill_policy=ONE_DAY_PER_RUN if daily else None,
            **selection,
        )
        def models(context: AssetExecutionContext, dbt: WarehouseDbtCliResource, duckdb: DuckDBWarehouseResource):
            yield from build_and_describe(context, dbt, duckdb)

        return models

    return [
        definition("movie_dbt_models", daily=False, exclude=DAILY_MODELS),
        definition("movie_dbt_daily_silver", daily=True, select=DAILY_SILVER_MODELS),
        definition("movie_dbt_daily_gold", daily=True, select=DAILY_GOLD_MODELS),
    ]
