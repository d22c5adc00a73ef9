"""dbt silver and gold models as Dagster assets (dagster-dbt).

Model asset keys are ``[schema, model]`` (``["silver", "tmdb_movies"]``), sources keep
dagster-dbt's ``[source, table]`` (``["bronze", "tmdb_movies"]``), so the dbt graph
attaches to the Python bronze assets and lineage reads bronze → silver → gold in the UI.
Each dbt test becomes an asset check on the model it tests.

Two asset definitions, built by :func:`build_dbt_assets` when the definitions load (the
manifest is read then, not on import), because one ``@dbt_assets`` has one partitioning:

- :func:`movie_dbt_daily_models`: models tagged ``daily`` (``gold.fact_movie_daily``),
  partitioned by day; the partition window reaches dbt as ``--vars`` ``min_date`` /
  ``max_date`` and the incremental model replaces exactly those days.
- :func:`movie_dbt_models`: every other model, unpartitioned (rebuilt from all of bronze),
  except ``silver.tmdb_movie_snapshots``, which is incremental by day like the fact.

The daily models read only unpartitioned models (silver, dimensions), never the reverse,
so a run builds bronze → unpartitioned dbt → daily dbt without an op cycle. The snapshots
are per day but cannot be a ``daily`` model: the unpartitioned models read them (the latest
fetch per movie, the calendar's bounds) and the daily fact reads those, so a partitioned
definition holding both the snapshots and the fact would sit on both sides of the
unpartitioned one. A third definition for them alone would cost every run one more dbt
start-up. So the unpartitioned definition passes the run's partition window too, when its
run has one and builds models: the snapshots type only those days. A run without a partition
(a manual materialization, the weekly full-table tests) gets no window, so the snapshots are
typed from every day, which is always exact. The price: dbt re-parses the project when its
vars differ from the prepared manifest's, which now happens in both invocations of a daily
run instead of only the daily one (each invocation starts from the project's
``partial_parse.msgpack``).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetMaterialization, AssetsDefinition, DailyPartitionsDefinition, Output
from dagster_dbt import DbtProject, dbt_assets

from movie_assets.partitions import ONE_DAY_PER_RUN
from movie_assets.transform.project import WarehouseDbtCliResource, prune_invocation_folders, run_window
from movie_assets.transform.spark_tables import copy_spark_table
from movie_assets.transform.translator import MovieDbtTranslator
from movie_assets.warehouse.duckdb_resource import DuckDBWarehouseResource
from movie_assets.warehouse.metadata import table_metadata

DAILY_MODELS = "tag:daily"
# dbt's unit tests check the models' SQL on fixed inputs, not the day's data: they run in the
# test suite (tests/integration/test_dbt_unit_tests.py), as dbt advises, not in every run.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


def partition_vars(context: AssetExecutionContext) -> dict[str, str] | None:
    """dbt vars for the run's partition window, ``{"min_date": "YYYY-MM-DD", "max_date": ...}``,
    or None when the run has no partition or builds no model.

    ``max_date`` is exclusive (the day after the last partition), so a one-day run of
    ``2026-11-20`` gives ``min_date=2026-11-20, max_date=2026-11-21``; a single-run backfill
    of several days gives the whole range. The daily (partitioned) models read it from
    ``context.partition_time_window``. The unpartitioned models of a partitioned run have no
    partition of their own, so they read the run's partition tags
    (:func:`movie_assets.transform.project.run_window`, also read by the dbt resource's
    background parse, so that parse is made with exactly these vars). None for a run of checks
    alone (dbt tests over whole tables) and for a run without a partition, which builds every
    day.
    """
    if not context.selected_asset_keys:
        return None
    if context.assets_def.partitions_def is not None:
        window = context.partition_time_window
        return {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}
    return run_window(context.run.tags)


def build_and_describe(
    context: AssetExecutionContext,
    dbt: WarehouseDbtCliResource,
    duckdb: DuckDBWarehouseResource,
    extra_vars: dict[str, str] | None = None,
) -> Iterator[Any]:
    """Run ``dbt build`` for the selected models (with the profile vars and ``extra_vars``,
    without dbt's unit tests) and yield its Dagster events.

    Each model's materialization gets :func:`movie_assets.warehouse.metadata.table_metadata` of its
    ``schema.table``. The events are held until dbt exits, because the dbt process keeps the
    DuckDB file open for writing and no second process may open it meanwhile. With the Spark
    engine each built model is first copied from Spark's warehouse into the build file
    (:func:`movie_assets.transform.spark_tables.copy_spark_table`), so what follows reads the
    same tables with either engine. The artifact folders of this asset's older invocations
    beyond the resource's ``artifacts_keep`` are deleted
    (:func:`movie_assets.transform.project.prune_invocation_folders`).

    Raises:
        dagster_dbt.DagsterDbtCliRuntimeError: dbt failed (after the events of the models and
            tests that did finish are yielded).
    """
    # dbt opens the file in a child process: wait here (bounded, with a clear error) for
    # another process to release it, rather than fail inside dbt with a raw lock error.
    duckdb.wait_until_writable()
    invocation = dbt.cli([*BUILD_ARGS, *dbt.vars_args(extra_vars)], context=context, raise_on_error=False)
    try:
        events = list(invocation.stream())
    finally:
        deleted = prune_invocation_folders(invocation.target_path, dbt.artifacts_keep)
        if deleted:
            context.log.debug(f"deleted {len(deleted)} older dbt artifact folders of {context.op_execution_context.op.name}")
    with duckdb.get_connection() as conn:
        for event in events:
            if isinstance(event, Output):
                key = context.asset_key_for_output(event.output_name)
            elif isinstance(event, AssetMaterialization):
                key = event.asset_key
            else:
                yield event
                continue
            relation = ".".join(key.path)
            if dbt.engine == "spark":
                copy_spark_table(conn, Path(dbt.spark_warehouse), relation)
            yield event.with_metadata({**event.metadata, **table_metadata(conn, relation)})
    if not invocation.is_successful():
        raise invocation.get_error()


def build_dbt_assets(project: DbtProject, partitions: DailyPartitionsDefinition) -> list[AssetsDefinition]:
    """The dbt models of ``project``'s manifest as two asset definitions: every model but the
    daily ones (unpartitioned), and the daily ones partitioned by ``partitions``.

    Raises:
        dagster_dbt.errors.DagsterDbtManifestNotFoundError: the manifest is missing (run
            ``make install``).
    """
    translator = MovieDbtTranslator()

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=translator,
        project=project,
        exclude=DAILY_MODELS,
    )
    def movie_dbt_models(context: AssetExecutionContext, dbt: WarehouseDbtCliResource, duckdb: DuckDBWarehouseResource):
        """Build (run + test) the unpartitioned silver and gold models in the warehouse DuckDB file,
        with the run's partition window for the incremental snapshots (see the module docstring)."""
        yield from build_and_describe(context, dbt, duckdb, partition_vars(context))

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=translator,
        project=project,
        select=DAILY_MODELS,
        partitions_def=partitions,
        backfill_policy=ONE_DAY_PER_RUN,
    )
    def movie_dbt_daily_models(context: AssetExecutionContext, dbt: WarehouseDbtCliResource, duckdb: DuckDBWarehouseResource):
        """Build (run + test) the daily models for the run's partition window (delete+insert of those days).

        A run of their checks alone (dbt tests over the whole table) builds no model, needs no
        window and may carry no partition, so it gets no window vars.
        """
        yield from build_and_describe(context, dbt, duckdb, partition_vars(context))

    return [movie_dbt_models, movie_dbt_daily_models]
