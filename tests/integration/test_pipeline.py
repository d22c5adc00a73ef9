"""The whole asset graph, end to end, on the real sample data (the session's ``sample_run``:
real HTTP, the Parquet lake, a real dbt build, a published snapshot), and re-running a day
on a copy of it."""

import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from dagster import AssetKey, AssetSelection

from conftest import DAY, copy_run, make_settings
from graph import bronze, run_selection
from movie_assets.settings import REPO_ROOT
from movie_assets.transform.project import build_dbt_project, build_dbt_resource, prepare_manifest


def test_whole_graph_on_sample_data(sample_run):
    with bronze(sample_run.settings) as lake:
        fetched = lake.execute("SELECT count(*), count(DISTINCT movie_id) FROM bronze.tmdb_movies WHERE partition_date = ?", [DAY]).fetchone()
        # EXPECTED.md: 310 valid ids, 300 of them in the snapshot, 10 answer 404.
        assert fetched == (300, 300)
        # Every bronze row records the deployment that produced it.
        assert lake.execute("SELECT DISTINCT tmdb_source FROM bronze.tmdb_movies").fetchall() == [("snapshot",)]
        leaked_paths = lake.execute("SELECT count(*) FROM bronze.tmdb_movies WHERE request_path LIKE '%api_key%'")
        assert leaked_paths.fetchone() == (0,)
    # Readers open the published snapshot, which names the run and the source.
    assert sample_run.settings.duckdb_path.is_symlink()
    with duckdb.connect(str(sample_run.settings.duckdb_path), read_only=True) as conn:
        publication = conn.execute("SELECT run_id, partition_date::VARCHAR, tmdb_source FROM meta.publication").fetchall()
        assert publication == [(sample_run.result.run_id, DAY, "snapshot")]
        assert conn.execute("SELECT count(*) FROM silver.tmdb_movies").fetchone() == (300,)
        avatar = conn.execute("SELECT title, year(release_date) FROM gold.dim_movie WHERE movie_id = 19995").fetchone()
        assert avatar == ("Avatar", 2009)

    workbook = openpyxl.load_workbook(Path(sample_run.settings.reports_dir) / "movie_data.xlsx", read_only=True)
    rows = list(workbook["Movies"].iter_rows(values_only=True))
    assert rows[0][:4] == ("ID", "Title", "Vote Average", "Genres")
    ids = [row[0] for row in rows[1:]]
    assert len(ids) == 300 and ids == sorted(ids)
    avatar_row = next(row for row in rows[1:] if row[0] == 19995)
    assert avatar_row[1] == "Avatar" and avatar_row[3] == "Action, Adventure, Fantasy, Science Fiction"


def test_rerunning_a_partition_does_not_duplicate(sample_run, tmp_path: Path):
    """The day's fetch and its fact rows again, over the sample run's warehouse: the day is
    replaced, not appended (the models in between are rebuilt whole, so cannot duplicate)."""
    settings = copy_run(sample_run, tmp_path)
    fetch_and_fact = AssetSelection.assets(AssetKey(["bronze", "tmdb_movies"]), AssetKey(["gold", "fact_movie_daily"]))
    result = run_selection(settings, fetch_and_fact.required_multi_asset_neighbors(), partition_key=DAY)
    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert {AssetKey(["bronze", "tmdb_movies"]), AssetKey(["gold", "fact_movie_daily"])} <= materialized
    with bronze(settings) as lake:
        assert lake.execute("SELECT count(*), count(DISTINCT run_id) FROM bronze.tmdb_movies").fetchone() == (300, 1)
        run_ids = {row[0] for row in lake.execute("SELECT DISTINCT run_id FROM bronze.tmdb_movies").fetchall()}
    assert run_ids == {result.run_id}
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM gold.fact_movie_daily").fetchone() == (300,)


@pytest.mark.parametrize("window", [None, {"min_date": DAY, "max_date": "2026-11-21"}], ids=["no_window", "window"])
def test_a_dbt_invocation_starts_from_the_engines_prepared_parse(dbt_manifest: Path, window: dict | None):
    """The manifest and its partial-parse state live in ``target/<engine>``: the resource points
    dagster-dbt there (``DBT_TARGET_PATH``), which copies the state, so dbt parses only what
    changed; a partition window (environment variables, not ``--vars``) keeps that state."""
    settings = make_settings(REPO_ROOT / "data")  # the settings dbt_manifest was prepared with
    # Another test (the service's `make up`) may have re-parsed the shared manifest for its own
    # data paths meanwhile: prepare it for these settings again (a no-op when unchanged).
    prepare_manifest(build_dbt_project(settings), settings)
    dbt = build_dbt_resource(settings)
    invocation = dbt.cli(["ls", "--select", "dim_movie", *dbt.vars_args()], window=window, raise_on_error=False)
    try:
        invocation.wait()
        log = (invocation.target_path / "dbt.log").read_text()
        assert invocation.is_successful(), log[-2000:]
        assert "UnableToPartialParse" not in log and "Unable to do partial parsing" not in log
    finally:
        shutil.rmtree(invocation.target_path, ignore_errors=True)


def test_each_dbt_table_is_observed_with_its_row_count_after_its_step(sample_run):
    """dbt's materializations stream as dbt builds; with DuckDB each built table's metadata
    follows as an observation once dbt has released the build file."""
    observed = {
        event.asset_key: event.asset_observation_data.asset_observation.metadata for event in sample_run.result.get_asset_observation_events()
    }
    dbt_tables = {
        AssetKey(["silver", "tmdb_movie_snapshots"]),
        AssetKey(["silver", "tmdb_movies"]),
        AssetKey(["gold", "dim_movie"]),
        AssetKey(["gold", "fact_movie_daily"]),
        AssetKey(["gold", "bridge_movie_genre"]),
    }
    assert dbt_tables <= set(observed)
    with duckdb.connect(str(sample_run.settings.build_duckdb_path), read_only=True) as conn:
        for key in dbt_tables:
            count = conn.execute(f"SELECT count(*) FROM {'.'.join(key.path)}").fetchone()[0]
            assert observed[key]["dagster/row_count"].value == count > 0, key
            assert [column.name for column in observed[key]["dagster/column_schema"].schema.columns] == [
                row[0] for row in conn.execute(f"DESCRIBE {'.'.join(key.path)}").fetchall()
            ], key
