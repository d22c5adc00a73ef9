"""dbt silver and gold models as Dagster assets (dagster-dbt).

Model asset keys are ``[schema, model]`` (``["silver", "tmdb_movies"]``), sources keep
dagster-dbt's ``[source, table]`` (``["bronze", "tmdb_movies"]``), so the dbt graph
attaches to the Python bronze assets and lineage reads bronze → silver → gold in the UI.
Each dbt test becomes an asset check on the model it tests.

Two asset definitions, because one ``@dbt_assets`` has one partitioning:

- :func:`movie_dbt_daily_models`: models tagged ``daily`` (``gold.fact_movie_daily``),
  partitioned by day; the partition window reaches dbt as ``--vars`` ``min_date`` /
  ``max_date`` and the incremental model replaces exactly those days.
- :func:`movie_dbt_models`: every other model, unpartitioned (rebuilt from all of bronze).

The daily models read only unpartitioned models (silver, dimensions), never the reverse,
so a run builds bronze → unpartitioned dbt → daily dbt without an op cycle.
"""


import json
import os
import shutil
import subprocess
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any, Iterator, Mapping

from dagster import AssetExecutionContext, AssetKey, AssetMaterialization, Output
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from movie_assets.warehouse.metadata import table_metadata
from movie_assets.partitions import daily_partitions
from movie_assets.settings import REPO_ROOT, load_settings

DAILY_MODELS = "tag:daily"
# The environment variables profiles.yml reads. dbt throws away its partial-parse state and
# parses the whole project again (seconds) whenever the rendered profile differs from the
# one it was parsed with, so the manifest is parsed with the values dbt will run with.
PROFILE_ENV_VARS = ("MOVIES_DUCKDB_PATH", "MOVIES_DUCKDB_MEMORY_LIMIT")

# Export the resolved warehouse path before any dbt parse: the runs' dbt sees the absolute one.
load_settings()
dbt_project = DbtProject(project_dir=REPO_ROOT / "dbt_project")
dbt_project.prepare_if_dev()


def dbt_executable() -> str:
    """The ``dbt`` installed beside this interpreter (the project venv), else the one on PATH.

    ``.venv/bin/python -m ...`` runs without the venv's ``bin`` on PATH.
    """
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def _newest_source_mtime() -> float:
    sources = [dbt_project.project_dir / "dbt_project.yml", dbt_project.project_dir / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend((dbt_project.project_dir / folder).rglob("*.*"))
    return max(path.stat().st_mtime for path in sources if path.is_file())


def _profile_env() -> str:
    return json.dumps({name: os.environ.get(name) for name in PROFILE_ENV_VARS}, sort_keys=True)


def ensure_manifest() -> None:
    """Run ``dbt parse`` when the manifest is missing, older than any dbt source file, or
    parsed for other values of :data:`PROFILE_ENV_VARS` (recorded beside it in
    ``parsed_with_env.json``).

    ``dagster dev`` re-parses on every load through ``prepare_if_dev``; this keeps the CLI,
    tests and ``make run`` from loading a stale graph after models change, and gives each
    run's dbt a partial-parse state it can use (a few stat calls when all is current).

    Raises:
        subprocess.CalledProcessError: ``dbt parse`` failed (its output names the file).
    """
    manifest = dbt_project.manifest_path
    stamp = manifest.with_name("parsed_with_env.json")
    profile_env = _profile_env()
    current = (
        manifest.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime()
        and stamp.exists()
        and stamp.read_text() == profile_env
    )
    if not current:
        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", str(dbt_project.project_dir),
             "--profiles-dir", str(dbt_project.profiles_dir)],
            check=True,
        )
        stamp.write_text(profile_env)


ensure_manifest()


class WarehouseDbtCliResource(DbtCliResource):
    """``DbtCliResource`` without two start-up costs that this project gets nothing from.

    Before a ``dbt`` command, dagster-dbt 0.29 runs ``dbt --version`` in a subprocess (once
    per resource instance, so once a run) and builds a dbt adapter in this process (importing
    dbt and loading its 500+ macros) that only ``fetch_column_metadata`` and
    ``fetch_row_counts`` use; this project reads table metadata from DuckDB itself
    (:func:`movie_assets.warehouse.metadata.table_metadata`). Together about 7 s of a daily run on
    2 cores (bench/README.md, "End to end").

    Both hooks are private methods of the pinned dagster-dbt: ``tests/test_pipeline.py``
    checks that they still exist, so an upgrade that renames them fails there rather than
    silently bringing the cost back.
    """

    @cached_property
    def _cli_version(self) -> Version:
        # dbt_executable() is the dbt of this interpreter's environment: its installed dbt-core.
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


class MovieDbtTranslator(DagsterDbtTranslator):
    """Keys models by ``[schema, name]`` and groups them by schema (silver, gold)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_group_name(dbt_resource_props)
        return dbt_resource_props["schema"]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return ["team:analytics-engineering"]


translator = MovieDbtTranslator()


def partition_vars(context: AssetExecutionContext) -> dict[str, str]:
    """dbt vars for the run's partition window: ``{"min_date": "YYYY-MM-DD", "max_date": ...}``.

    ``max_date`` is exclusive (the day after the last partition), so a one-day run of
    ``2026-11-20`` gives ``min_date=2026-11-20, max_date=2026-11-21``; a single-run backfill
    of several days gives the whole range.
    """
    window = context.partition_time_window
    return {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}


def build_and_describe(
    context: AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource, args: list[str]
) -> Iterator[Any]:
    """Run ``dbt <args>`` for the selected models and yield its Dagster events.

    Each model's materialization gets :func:`movie_assets.warehouse.metadata.table_metadata` of its
    ``schema.table``. The events are held until dbt exits, because the dbt process keeps the
    DuckDB file open for writing and no second process may open it meanwhile.

    Raises:
        dagster_dbt.DagsterDbtCliRuntimeError: dbt failed (after the events of the models and
            tests that did finish are yielded).
    """
    # dbt opens the file in a child process: wait here (bounded, with a clear error) for
    # another process to release it, rather than fail inside dbt with a raw lock error.
    with duckdb.get_connection():
        pass
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    events = list(invocation.stream())
    with duckdb.get_connection() as conn:
        for event in events:
            if isinstance(event, Output):
                key = context.asset_key_for_output(event.output_name)
            elif isinstance(event, AssetMaterialization):
                key = event.asset_key
            else:
                yield event
                continue
            yield event.with_metadata({**event.metadata, **table_metadata(conn, ".".join(key.path))})
    if not invocation.is_successful():
        raise invocation.get_error()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=translator,
    project=dbt_project,
    exclude=DAILY_MODELS,
)
def movie_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    """Build (run + test) the unpartitioned silver and gold models in the warehouse DuckDB file."""
    yield from build_and_describe(context, dbt, duckdb, ["build"])


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=translator,
    project=dbt_project,
    select=DAILY_MODELS,
    partitions_def=daily_partitions,
)
def movie_dbt_daily_models(context: AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    """Build (run + test) the daily models for the run's partition window (delete+insert of those days).

    A run of their checks alone (dbt tests over the whole table) builds no model, needs no
    window and may carry no partition, so it gets no ``--vars``.
    """
    window_vars = ["--vars", json.dumps(partition_vars(context))] if context.selected_asset_keys else []
    yield from build_and_describe(context, dbt, duckdb, ["build", *window_vars])
