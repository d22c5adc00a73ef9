"""Helpers of the integration tests: run a selection of the product's definitions in process;
read the lake's bronze tables; run dbt's unit tests against a built warehouse.

The tests' days (2026-11-20 and around) are past days, and TMDB serves only current values:
their fetches are refetches (``REFETCH_RUN_CONFIG``), marked ``observed_late`` in silver and gold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetKey, AssetSelection, ExecuteInProcessResult, materialize

from conftest import REFETCH_RUN_CONFIG
from movie_assets.definitions import build_definitions
from movie_assets.settings import Settings
from movie_assets.tmdb.resources import SnapshotTMDBResource, build_tmdb_resource
from movie_assets.transform.project import build_dbt_resource
from movie_assets.warehouse.lake import Lake

TMDB_FETCH = AssetKey(["bronze", "tmdb_movies"])
#: The sample's later TMDB observation (July 2017), served as a second day.
LATER_FILE = "movies_2017-07.jsonl.gz"
GOLD_TMDB_MODELS = [
    "fact_movie_daily",
    "dim_movie",
    "dim_date",
    "dim_genre",
    "dim_company",
    "dim_country",
    "dim_language",
    "bridge_movie_genre",
    "bridge_movie_company",
    "bridge_movie_country",
    "bridge_movie_language",
    "vw_movie_latest",
    "vw_genre_popularity",
    "vw_top_movies",
    "mart_genre_roi",
    "kpi_summary",
]
# The TMDB chain only: these models and everything upstream (bronze.tmdb_movies, silver.tmdb_*),
# so other sources' assets are not needed.
TMDB_CHAIN = AssetSelection.assets(*[AssetKey(["gold", name]) for name in GOLD_TMDB_MODELS]).upstream().required_multi_asset_neighbors()


def run_selection(settings: Settings, selection, **kwargs) -> ExecuteInProcessResult:
    """``dagster.materialize`` of ``selection`` (assets and/or checks) over every definition
    built for ``settings``, with their resources; ``kwargs`` go to ``materialize``
    (``partition_key``, ``tags``, ``raise_on_error``) except ``resources``, which replaces
    some of the resources (e.g. another TMDB snapshot). A selection fetching TMDB gets
    ``REFETCH_RUN_CONFIG`` unless ``run_config`` is given."""
    defs = build_definitions(settings)
    resources = {**defs.resources, **kwargs.pop("resources", {})}
    if "run_config" not in kwargs and TMDB_FETCH in AssetSelection.from_coercible(selection).resolve(defs.resolve_asset_graph()):
        kwargs["run_config"] = REFETCH_RUN_CONFIG
    return materialize([*defs.assets, *defs.asset_checks], selection=selection, resources=resources, **kwargs)


@contextmanager
def bronze(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with ``bronze.<table>`` views over ``settings``' lake."""
    with Lake(settings.lake_dir).connect_bronze() as conn:
        yield conn


def bronze_views(settings: Settings) -> None:
    """Views ``bronze.<table>`` over the lake inside ``settings``' build file, so a test can
    join bronze with silver and gold in one connection (the pipeline never needs them)."""
    lake = Lake(settings.lake_dir)
    with duckdb.connect(str(settings.build_duckdb_path)) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bronze")
        for table in lake.tables():
            conn.execute(f"CREATE OR REPLACE VIEW bronze.{table} AS SELECT * FROM {lake.source(table)}")


def later_snapshot(settings: Settings) -> SnapshotTMDBResource:
    """The ``tmdb`` resource of ``settings`` serving the later observation (:data:`LATER_FILE`)."""
    resource = build_tmdb_resource(settings)
    return SnapshotTMDBResource(**{**resource.model_dump(), "movies_file": LATER_FILE})


def run_dbt_unit_tests(settings: Settings, target: Path) -> list[dict[str, Any]]:
    """``dbt test --select test_type:unit`` with the product's ``dbt`` resource for ``settings``
    (its engine, build file or Spark warehouse), artifacts in ``target``; the ``results`` of its
    ``run_results.json`` (``unique_id``, ``status``, ``message``, ...).

    dbt takes the column types of a unit test's inputs from their relations, so the warehouse
    must have been built. The daily runs leave unit tests out (``BUILD_ARGS`` of
    ``movie_assets/transform/dbt_assets.py``); this is where they run.
    """
    dbt = build_dbt_resource(settings)
    invocation = dbt.cli(["test", "--select", "test_type:unit", *dbt.vars_args()], target_path=target, raise_on_error=False).wait()
    assert (target / "run_results.json").exists(), f"dbt wrote no run results; see {target / 'dbt.log'}"
    return invocation.get_artifact("run_results.json")["results"]
