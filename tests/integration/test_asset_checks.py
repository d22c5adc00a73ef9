"""Asset checks: each passes on the sample data and fails on a deliberately broken copy.

The session's ``sample_run`` gives the passing run; the broken copies are copies of its
warehouse and reports folder (:func:`copy_run`) on which only the checks are executed.
"""

import csv
import gzip
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from dagster import AssetCheckKey, AssetKey, AssetSelection, Definitions

from conftest import DAY, SampleRun, copy_run
from graph import run_selection
from movie_assets.settings import Settings
from movie_assets.warehouse.lake import Lake

BRONZE = [
    AssetCheckKey(AssetKey(["bronze", "tmdb_movies"]), "tmdb_movies_partition_not_empty"),
    AssetCheckKey(AssetKey(["bronze", "tmdb_movies"]), "tmdb_movies_payloads_have_id"),
    AssetCheckKey(AssetKey(["bronze", "tmdb_dead_letter"]), "tmdb_dead_letter_share_below_threshold"),
]
# The gold checks the reports depend on are dbt tests (YAML beside the models, and
# dbt_project/tests/), which dagster-dbt turns into blocking asset checks.
GOLD = [
    AssetCheckKey(AssetKey(["gold", "fact_movie_daily"]), "unique_combination_of_columns_fact_movie_daily_date_id__movie_id"),
    AssetCheckKey(AssetKey(["gold", "dim_movie"]), "accepted_range_dim_movie_vote_average__10__0"),
    AssetCheckKey(AssetKey(["gold", "dim_movie"]), "dim_movie_roi_only_with_budget_and_revenue"),
]
CHARTS = [
    "revenue_vs_budget",
    "roi_by_genre",
    "popularity_vs_rating",
    "yearly_revenue",
    "top_directors_by_revenue",
    "franchise_vs_standalone",
]
REPORTS = [AssetCheckKey(AssetKey(["reports", "movie_data_xlsx"]), "movie_data_xlsx_matches_dim_movie")] + [
    AssetCheckKey(AssetKey(["reports", "charts", f"{name}_png"]), "png_written") for name in CHARTS
]
# The fact's daily ratings are the silver snapshots' values, so their range is tested there. A
# failing test there makes dbt skip everything downstream in its invocation (dim_movie's tests
# included), so it is broken on its own copy.
DAILY_RATINGS = AssetCheckKey(AssetKey(["silver", "tmdb_movie_snapshots"]), "accepted_range_tmdb_movie_snapshots_vote_average__10__0")
OURS = BRONZE + GOLD + REPORTS
PUBLISHED = AssetKey(["serving", "warehouse_snapshot"])


def _evaluations(result) -> dict[AssetCheckKey, object]:
    return {evaluation.asset_check_key: evaluation for evaluation in result.get_asset_check_evaluations()}


def _run_checks(settings: Settings, checks: list[AssetCheckKey], partition: str = DAY, extra=None):
    selection = AssetSelection.checks(*checks)
    if extra is not None:
        selection = selection | extra
    # The partition goes in as a run tag: materialize() derives a partitions definition from the
    # selected assets only, and a checks-only selection has none.
    return run_selection(settings, selection, tags={"dagster/partition": partition}, raise_on_error=False)


def _broken_copy(run: SampleRun, folder: Path, statements: list[str]) -> Settings:
    """A copy of ``run`` changed by ``statements``: those on ``bronze.*`` apply to the day's
    lake partitions (rewritten whole, as a fetch would), the others to the build file."""
    settings = copy_run(run, folder)
    lake = Lake(settings.lake_dir)
    tables = ("tmdb_movies", "tmdb_dead_letter")
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA bronze")
        for table in tables:
            conn.execute(f"CREATE TABLE bronze.{table} AS SELECT * FROM read_parquet('{lake.partition_file(table, DAY)}')")
        for statement in statements:
            if "bronze." in statement:
                conn.execute(statement)
        for table in tables:
            lake.write_partition(table, DAY, conn.sql(f"SELECT * FROM bronze.{table}").to_arrow_table())
    with duckdb.connect(str(settings.build_duckdb_path)) as conn:
        for statement in statements:
            if "bronze." not in statement:
                conn.execute(statement)
    return settings


def test_every_check_passes_on_the_sample_data(sample_run: SampleRun):
    evaluations = _evaluations(sample_run.result)
    for key in [*OURS, DAILY_RATINGS]:
        assert key in evaluations, f"{key} did not run"
        assert evaluations[key].passed, (key, evaluations[key].metadata)


def test_blocking_flags(defs: Definitions):
    # Python checks are their own definitions; dbt tests are check specs of the dbt assets.
    by_key = {spec.key: spec for definition in [*defs.asset_checks, *defs.assets] for spec in definition.check_specs}
    assert all(by_key[key].blocking for key in [*BRONZE[:2], *GOLD, DAILY_RATINGS])
    assert not any(by_key[key].blocking for key in BRONZE[2:] + REPORTS)
    assert all(by_key[key].description and "Protects" in by_key[key].description for key in BRONZE + REPORTS)


def test_empty_partition_fails(sample_run: SampleRun, tmp_path: Path):
    # The sample run fetched only DAY; a check run may open the warehouse for writing, so a copy.
    result = _run_checks(copy_run(sample_run, tmp_path), BRONZE[:1], partition="2026-11-19")
    assert not _evaluations(result)[BRONZE[0]].passed


def test_checks_fail_on_a_broken_copy(sample_run: SampleRun, tmp_path: Path):
    settings = _broken_copy(
        sample_run,
        tmp_path,
        [
            # A payload that lost its id, and one whose id belongs to another movie.
            "UPDATE bronze.tmdb_movies SET payload = json_object('title', 'no id') WHERE movie_id = 19995",
            "UPDATE bronze.tmdb_movies SET payload = json_object('id', 1) WHERE movie_id = 597",
            # 100 more movies that failed to fetch: 110 of 400 requested.
            "INSERT INTO bronze.tmdb_dead_letter SELECT tmdb_dead_letter.* REPLACE (movie_id + range AS movie_id) "
            "FROM bronze.tmdb_dead_letter, range(1, 11) WHERE source = 'fetch'",
            "INSERT INTO gold.fact_movie_daily SELECT * FROM gold.fact_movie_daily WHERE movie_id = 19995",
            "UPDATE gold.dim_movie SET vote_average = -0.1 WHERE movie_id = 597",
            "UPDATE gold.dim_movie SET budget_usd = NULL WHERE movie_id = 19995",
            "DELETE FROM gold.dim_movie WHERE movie_id = 24428",
        ],
    )
    charts = settings.reports_dir / "charts"
    (charts / "revenue_vs_budget.png").unlink()
    (charts / "roi_by_genre.png").write_bytes(b"")
    (charts / "popularity_vs_rating.png").write_bytes(b"GIF89a not a png at all")
    (charts / "top_directors_by_revenue.png").unlink()
    shutil.copy(charts / "yearly_revenue.png", charts / "franchise_vs_standalone.png.tmp")
    with open(charts / "yearly_revenue.png", "r+b") as handle:
        handle.seek(16)
        handle.write((600).to_bytes(4, "big"))
    evaluations = _evaluations(_run_checks(settings, OURS[1:]))
    failing = {key for key, evaluation in evaluations.items() if not evaluation.passed}
    assert failing == set(OURS[1:]) - {REPORTS[-1]}
    assert evaluations[BRONZE[1]].metadata["bad_movie_ids"].value == [597, 19995]
    assert evaluations[GOLD[0]].metadata["dagster_dbt/failed_row_count"].value == 1


def test_failed_blocking_check_stops_the_report_and_publication(sample_run: SampleRun, tmp_path: Path):
    settings = _broken_copy(sample_run, tmp_path, ["UPDATE gold.dim_movie SET vote_average = 11"])
    workbook = settings.reports_dir / "movie_data.xlsx"
    before = workbook.stat().st_mtime_ns
    published = settings.duckdb_path.resolve()
    published_bytes = published.read_bytes()
    downstream = AssetSelection.assets(AssetKey(["reports", "movie_data_xlsx"]), PUBLISHED)
    result = _run_checks(settings, GOLD[1:2], extra=downstream)
    assert not _evaluations(result)[GOLD[1]].passed
    assert not result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert not {AssetKey(["reports", "movie_data_xlsx"]), PUBLISHED} & materialized
    assert workbook.stat().st_mtime_ns == before
    # Readers keep the last good snapshot: the link names the same file, byte for byte.
    assert settings.duckdb_path.resolve() == published
    assert published.read_bytes() == published_bytes
    assert sorted(path.name for path in settings.serving_dir.iterdir()) == [published.name]


def test_workbook_and_charts_from_the_sample_data(sample_run: SampleRun, sample_data: Path):
    settings = sample_run.settings
    ids = set()
    with open(sample_data / "ids" / "movies.csv", encoding="utf-8-sig", newline="") as handle:
        for (raw,) in (row for row in csv.reader(handle) if row):
            if raw.strip().isdigit():
                ids.add(int(raw.strip()))
    with gzip.open(sample_data / "tmdb" / "movies.jsonl.gz", "rt") as handle:
        action_ids = {
            movie["id"] for movie in map(json.loads, handle) if movie["id"] in ids and any(genre["name"] == "Action" for genre in movie["genres"])
        }

    workbook = openpyxl.load_workbook(settings.reports_dir / "movie_data.xlsx")
    assert workbook.sheetnames == ["Movies", "Genre ROI", "KPIs", "Dead letters", "Changes", "About"]
    movies = list(workbook["Movies"].iter_rows(min_row=2))
    assert len(movies) == 300
    red_rows = {row[0].value for row in movies if row[1].font.bold and row[1].font.color.rgb == "FFC00000"}
    assert red_rows == action_ids and len(action_ids) > 50
    avatar = next(row for row in movies if row[0].value == 19995)
    assert avatar[7].value == pytest.approx((2_787_965_087 - 237_000_000) / 237_000_000)
    about = dict(workbook["About"].iter_rows(min_row=2, values_only=True))
    assert about["Partition"] == DAY
    # EXPECTED.md: 9 rejected and 5 duplicate rows of the ID list, 10 ids answering 404.
    reasons = [row[4] for row in workbook["Dead letters"].iter_rows(min_row=2, values_only=True)]
    assert len(reasons) == about["Rows: Dead letters"] == 24 and reasons.count("not-found") == 10
    assert workbook["Genre ROI"].max_row - 1 == about["Rows: Genre ROI"] > 5
    for name in CHARTS:
        assert (settings.reports_dir / "charts" / f"{name}.png").stat().st_size > 20_000


def test_daily_ratings_out_of_range_fail(sample_run: SampleRun, tmp_path: Path):
    settings = _broken_copy(sample_run, tmp_path, ["UPDATE silver.tmdb_movie_snapshots SET vote_average = 10.5 WHERE movie_id = 597"])
    assert not _evaluations(_run_checks(settings, [DAILY_RATINGS]))[DAILY_RATINGS].passed
