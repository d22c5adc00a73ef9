"""The dbt silver/gold star schema on two real TMDB observations used as two days.

Day 1 is the session's ``sample_run`` (``tmdb/movies.jsonl.gz``, about February 2017, on
2026-11-20); on a copy of it, day 2 (2026-11-21) serves the later ``tmdb/movies_2017-07.jsonl.gz``
(July 2017). Both go through the real local TMDB server, real bronze loads and a real
``dbt build`` (via Dagster, so dbt tests run as asset checks).
Expected values are computed here from the raw JSON, independently of the SQL.
"""

import csv
import gzip
import json
import shutil
import statistics
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, Definitions

from conftest import DAY, SampleRun, copy_run, make_settings
from graph import LATER_FILE, TMDB_CHAIN, later_snapshot, run_selection
from movie_assets.partitions import build_daily_partitions
from movie_assets.settings import Settings
from movie_assets.warehouse.lake import Lake

DAY_1, DAY_2 = DAY, "2026-11-21"
DAY_1_ID, DAY_2_ID = 20261120, 20261121
AVATAR = 19995
FACT = AssetKey(["gold", "fact_movie_daily"])


def requested_ids(sample_data: Path) -> set[int]:
    """The valid ids of ids/movies.csv (positive integers after trimming), parsed here on purpose."""
    with open(sample_data / "ids" / "movies.csv", encoding="utf-8-sig", newline="") as handle:
        values = [row["ID"].strip() for row in csv.DictReader(handle)]
    return {int(value) for value in values if value.isdigit() and int(value) > 0}


def raw_movies(sample_data: Path, file_name: str, ids: set[int]) -> dict[int, dict]:
    with gzip.open(sample_data / "tmdb" / file_name, "rt", encoding="utf-8") as handle:
        movies = (json.loads(line) for line in handle)
        return {movie["id"]: movie for movie in movies if movie["id"] in ids}


def roi(movie: dict) -> float | None:
    """TMDB's 0 budget/revenue means unknown, so ROI exists only where both are positive."""
    if movie["budget"] > 0 and movie["revenue"] > 0:
        return (movie["revenue"] - movie["budget"]) / movie["budget"]
    return None


@pytest.fixture(scope="module")
def expected(sample_data: Path) -> dict:
    ids = requested_ids(sample_data)
    first = raw_movies(sample_data, "movies.jsonl.gz", ids)
    later = raw_movies(sample_data, LATER_FILE, ids)
    return {"first": first, "later": later, "latest": {**first, **later}}


def silver_and_gold_checks(result) -> dict[str, bool]:
    return {
        evaluation.check_name: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.asset_key.path[0] in ("silver", "gold")
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, sample_run: SampleRun) -> dict:
    """Day 1 (the sample run), then day 2 (the later file), then day 1's fact rebuilt; fact
    row counts after each step.

    Returns ``{"root": the run's folder, "path": its build file, "after_day_1": ..., "after_day_2": ..., "after_rebuild": ...,
    "check_results": {(step, dbt test name): passed}}``.
    """
    root = tmp_path_factory.mktemp("star_schema")
    settings = copy_run(sample_run, root)

    def fact_counts() -> dict[int, tuple[int, int]]:
        with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
            rows = conn.execute("SELECT date_id, count(*), count(DISTINCT movie_id) FROM gold.fact_movie_daily GROUP BY date_id").fetchall()
        return {date_id: (rows_, movies) for date_id, rows_, movies in rows}

    # Keyed by step too: a test failing on day 1 must not be hidden by its pass on day 2.
    observed: dict = {
        "root": root,
        "path": settings.build_duckdb_path,
        "after_day_1": fact_counts(),
        "check_results": {("after_day_1", name): passed for name, passed in silver_and_gold_checks(sample_run.result).items()},
    }
    for step, partition, resources, selection in [
        ("after_day_2", DAY_2, {"tmdb": later_snapshot(settings)}, TMDB_CHAIN),
        ("after_rebuild", DAY_1, {}, AssetSelection.assets(FACT)),
    ]:
        result = run_selection(settings, selection, resources=resources, partition_key=partition)
        assert result.success, step
        observed["check_results"].update({(step, name): passed for name, passed in silver_and_gold_checks(result).items()})
        observed[step] = fact_counts()
    return observed


def query(warehouse: dict, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse["path"]), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_daily_models_are_partitioned_and_the_rest_are_not(defs: Definitions, settings: Settings):
    daily_models = defs.resolve_assets_def(FACT)
    other_models = defs.resolve_assets_def(AssetKey(["gold", "kpi_summary"]))
    assert daily_models.partitions_def == build_daily_partitions(settings)
    assert daily_models.keys == {FACT}
    assert other_models.partitions_def is None
    assert AssetKey(["gold", "dim_movie"]) in other_models.keys


def test_dbt_tests_are_asset_checks_and_pass(warehouse: dict, defs: Definitions):
    fact_checks = {spec.name for spec in defs.resolve_assets_def(FACT).check_specs}
    assert "unique_combination_of_columns_fact_movie_daily_date_id__movie_id" in fact_checks
    assert "relationships_fact_movie_daily_movie_id__movie_id__ref_dim_movie_" in fact_checks
    assert "relationships_fact_movie_daily_date_id__date_id__ref_dim_date_" in fact_checks
    results = warehouse["check_results"]
    assert len(results) > 50
    assert [key for key, passed in results.items() if not passed] == []


def test_each_day_has_one_fact_row_per_movie(warehouse: dict, expected: dict):
    assert warehouse["after_day_1"] == {DAY_1_ID: (len(expected["first"]),) * 2}
    # Only some of the requested movies exist in the later file; the rest answer 404 that day.
    assert warehouse["after_day_2"] == {
        DAY_1_ID: (len(expected["first"]),) * 2,
        DAY_2_ID: (len(expected["later"]),) * 2,
    }


def test_rebuilding_a_day_replaces_only_that_day(warehouse: dict):
    assert warehouse["after_rebuild"] == warehouse["after_day_2"]


def test_rebuilding_a_day_whose_bronze_is_now_empty_empties_that_day(warehouse: dict, tmp_path: Path):
    shutil.copytree(warehouse["root"], tmp_path, dirs_exist_ok=True, symlinks=True)
    settings = make_settings(tmp_path)
    lake = Lake(settings.lake_dir)
    with lake.connect_bronze() as conn:
        nothing = conn.sql("SELECT * EXCLUDE (partition_date) FROM bronze.tmdb_movies LIMIT 0").to_arrow_table()
    lake.write_partition("tmdb_movies", DAY_2, nothing)
    # As in a daily run: silver is rebuilt from bronze, then the day's fact.
    silver_and_fact = AssetSelection.assets(AssetKey(["silver", "tmdb_movie_snapshots"]), FACT)
    assert run_selection(settings, silver_and_fact, partition_key=DAY_2).success
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        days = dict(conn.execute("SELECT date_id, count(*) FROM gold.fact_movie_daily GROUP BY date_id").fetchall())
    assert DAY_2_ID not in days
    assert days[DAY_1_ID] == warehouse["after_day_2"][DAY_1_ID][0]


def test_two_days_give_two_fact_rows_per_movie_seen_twice(warehouse: dict, expected: dict):
    rows_per_movie = dict(query(warehouse, "SELECT movie_id, count(*) FROM gold.fact_movie_daily GROUP BY movie_id"))
    assert {movie for movie, rows in rows_per_movie.items() if rows == 2} == set(expected["later"])
    assert max(rows_per_movie.values()) == 2


def test_fact_measures_are_the_day_s_observation(warehouse: dict, expected: dict):
    movie_id = next(iter(sorted(expected["later"])))
    by_day = dict(
        (date_id, (votes, budget))
        for date_id, votes, budget in query(
            warehouse,
            "SELECT date_id, vote_count, budget_usd FROM gold.fact_movie_daily WHERE movie_id = ?",
            [movie_id],
        )
    )
    for date_id, raw in [(DAY_1_ID, expected["first"][movie_id]), (DAY_2_ID, expected["later"][movie_id])]:
        assert by_day[date_id] == (raw["vote_count"], raw["budget"] or None)


def test_silver_keeps_the_latest_fetch_with_unknown_money_as_null(warehouse: dict, expected: dict):
    latest = expected["latest"]
    rows = query(warehouse, "SELECT movie_id, vote_count, budget_usd, revenue_usd FROM silver.tmdb_movies")
    assert {row[0]: row[1:] for row in rows} == {
        movie_id: (raw["vote_count"], raw["budget"] or None, raw["revenue"] or None) for movie_id, raw in latest.items()
    }


def test_avatar_roi_and_attributes(warehouse: dict, expected: dict):
    avatar = expected["latest"][AVATAR]
    row = query(
        warehouse,
        "SELECT title, budget_usd, revenue_usd, profit_usd, roi, genres FROM gold.dim_movie WHERE movie_id = ?",
        [AVATAR],
    )[0]
    assert row[:4] == ("Avatar", avatar["budget"], avatar["revenue"], avatar["revenue"] - avatar["budget"])
    assert row[4] == pytest.approx(roi(avatar))
    assert row[5] == ", ".join(sorted(genre["name"] for genre in avatar["genres"]))


def test_genre_roi_mart_matches_raw_json(warehouse: dict, expected: dict):
    action = [
        movie for movie in expected["latest"].values() if roi(movie) is not None and any(genre["name"] == "Action" for genre in movie["genres"])
    ]
    row = query(
        warehouse,
        "SELECT total_movies, median_roi, portfolio_roi, pct_profitable, total_budget FROM gold.mart_genre_roi WHERE genre_name = 'Action'",
    )[0]
    budget = sum(movie["budget"] for movie in action)
    revenue = sum(movie["revenue"] for movie in action)
    assert row[0] == len(action)
    assert row[1] == pytest.approx(statistics.median(roi(movie) for movie in action))
    assert row[2] == pytest.approx(revenue / budget - 1)
    assert row[3] == pytest.approx(sum(movie["revenue"] > movie["budget"] for movie in action) / len(action))
    assert row[4] == budget
    counted = {name: count for name, count in query(warehouse, "SELECT genre_name, total_movies FROM gold.mart_genre_roi")}
    assert min(counted.values()) >= 10


def test_kpis_match_raw_json(warehouse: dict, expected: dict):
    latest = expected["latest"].values()
    kpis = query(warehouse, "SELECT kpi, subject_id, value FROM gold.kpi_summary WHERE rank = 1")
    first = {kpi: (subject, value) for kpi, subject, value in kpis}
    top_revenue = max(latest, key=lambda movie: movie["revenue"])
    assert first["highest_revenue"] == (top_revenue["id"], top_revenue["revenue"])
    eligible = [movie for movie in latest if roi(movie) is not None and movie["budget"] >= 10_000_000]
    best_roi = max(eligible, key=roi)
    assert first["highest_roi"][0] == best_roi["id"]
    assert first["highest_roi"][1] == pytest.approx(roi(best_roi))
    worst_rated = min(
        (movie for movie in latest if movie["vote_count"] >= 10), key=lambda movie: (movie["vote_average"], -movie["vote_count"], movie["id"])
    )
    assert first["lowest_rated"] == (worst_rated["id"], worst_rated["vote_average"])
    # One long table: (kpi, rank, metric) is its key.
    assert query(warehouse, "SELECT count(*) - count(DISTINCT (kpi, rank, metric)) FROM gold.kpi_summary") == [(0,)]


def test_popularity_views_use_the_latest_day_only(warehouse: dict, expected: dict):
    later = expected["later"].values()
    action_today = [movie for movie in later if any(genre["name"] == "Action" for genre in movie["genres"])]
    assert query(warehouse, "SELECT movie_count FROM gold.vw_genre_popularity WHERE genre_name = 'Action'") == [(len(action_today),)]
    top = max(later, key=lambda movie: movie["popularity"])
    assert query(warehouse, "SELECT movie_id FROM gold.vw_top_movies WHERE popularity_rank = 1") == [(top["id"],)]


def test_dim_date_covers_facts_and_releases(warehouse: dict, expected: dict):
    assert query(warehouse, "SELECT year, quarter, month, iso_week, weekday FROM gold.dim_date WHERE date_id = ?", [DAY_2_ID]) == [
        (2026, 4, 11, 47, 6)
    ]
    earliest_release = min(date.fromisoformat(m["release_date"]) for m in expected["latest"].values() if m["release_date"])
    assert query(warehouse, "SELECT min(date_day) <= ? FROM gold.dim_date", [earliest_release]) == [(True,)]
