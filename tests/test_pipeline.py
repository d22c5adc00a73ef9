"""The whole asset graph, end to end, on the real sample data: real HTTP, DuckDB, dbt build."""

from functools import cached_property
from pathlib import Path

import duckdb
import openpyxl
from dagster import materialize
from dagster_dbt import DbtCliResource

from movie_assets.transform.dbt_assets import WarehouseDbtCliResource
from movie_assets.definitions import all_asset_checks, all_assets, build_resources
from movie_assets.settings import Settings

PARTITION = "2026-11-20"


def run_graph(settings: Settings, partition: str = PARTITION):
    result = materialize([*all_assets, *all_asset_checks], resources=build_resources(settings), partition_key=partition)
    assert result.success
    return result


def test_whole_graph_on_sample_data(settings: Settings):
    run_graph(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        bronze = conn.execute(
            "SELECT count(*), count(DISTINCT movie_id) FROM bronze.tmdb_movies WHERE partition_date = ?", [PARTITION]
        ).fetchone()
        # EXPECTED.md: 310 valid ids, 300 of them in the snapshot, 10 answer 404.
        assert bronze == (300, 300)
        assert conn.execute("SELECT count(*) FROM silver.tmdb_movies").fetchone() == (300,)
        avatar = conn.execute(
            "SELECT title, year(release_date) FROM gold.dim_movie WHERE movie_id = 19995"
        ).fetchone()
        assert avatar == ("Avatar", 2009)
        leaked_paths = conn.execute(
            "SELECT count(*) FROM bronze.tmdb_movies WHERE request_path LIKE '%api_key%'"
        ).fetchone()
        assert leaked_paths == (0,)

    workbook = openpyxl.load_workbook(Path(settings.reports_dir) / "movie_data.xlsx", read_only=True)
    rows = list(workbook["Movies"].iter_rows(values_only=True))
    assert rows[0][:4] == ("ID", "Title", "Vote Average", "Genres")
    ids = [row[0] for row in rows[1:]]
    assert len(ids) == 300 and ids == sorted(ids)
    avatar_row = next(row for row in rows[1:] if row[0] == 19995)
    assert avatar_row[1] == "Avatar" and avatar_row[3] == "Action, Adventure, Fantasy, Science Fiction"


def test_rerunning_a_partition_does_not_duplicate(settings: Settings):
    run_graph(settings)
    run_graph(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM bronze.tmdb_movies").fetchone() == (300,)


def test_dbt_resource_overrides_start_up_hooks_dagster_dbt_still_has():
    """WarehouseDbtCliResource overrides two private members of the pinned dagster-dbt: an
    upgrade that renames them must fail here, not silently bring back their start-up cost."""
    assert isinstance(DbtCliResource.__dict__.get("_cli_version"), cached_property)
    assert callable(DbtCliResource.__dict__.get("_initialize_dbt_core_adapter"))
    assert {"_cli_version", "_initialize_dbt_core_adapter"} <= set(WarehouseDbtCliResource.__dict__)
