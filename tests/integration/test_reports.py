"""The reports of the session's ``sample_run`` (the whole daily graph on the sample data),
read where that run wrote them and compared with the gold tables they are built from:

- ``movie_data.xlsx``: every sheet holds exactly its gold rows (Movies = ``gold.dim_movie``,
  Genre ROI = ``gold.mart_genre_roi``, KPIs = ``gold.kpi_summary`` (the director and actor
  KPIs saying how many movies with known credits they cover), Dead letters =
  ``gold.rpt_tmdb_dead_letters``, About = ``gold.rpt_as_of`` and the run), with the number
  formats of the real column types, Action movies bold red, no cell a formula;
- ``charts/*.png``: six 1200x800 PNGs, each plotted from as many gold rows as the table
  holds, embedded in its materialization;
- the report checks ran in that run and passed.

Nothing here rebuilds the graph; the warehouse is opened read-only.
"""

from __future__ import annotations

import base64
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from dagster import AssetCheckKey, AssetKey

from movie_assets.reports import charts
from movie_assets.reports import workbook as report_workbook

CHARTS = {chart.key: file_name for chart, file_name in charts.CHART_FILES.items()}
WORKBOOK_KEY = AssetKey(["reports", "movie_data_xlsx"])
REPORT_CHECKS = [AssetCheckKey(WORKBOOK_KEY, "movie_data_xlsx_matches_dim_movie")] + [AssetCheckKey(key, "png_written") for key in CHARTS]
# What each chart asset plots: one point or bar per row of these gold queries.
CHART_ROWS = {
    "revenue_vs_budget.png": "SELECT count(*) FROM gold.dim_movie WHERE budget_usd IS NOT NULL AND revenue_usd IS NOT NULL",
    "roi_by_genre.png": "SELECT count(*) FROM gold.mart_genre_roi",
    "popularity_vs_rating.png": "SELECT count(*) FROM gold.dim_movie WHERE vote_count > 0",
    "yearly_revenue.png": "SELECT count(*) FROM gold.rpt_yearly_revenue",
    "franchise_vs_standalone.png": "SELECT count(*) FROM gold.rpt_franchise_vs_standalone",
    "top_directors_by_revenue.png": "SELECT count(*) FROM gold.rpt_top_directors_by_revenue",
}
# KPI units (gold.kpi_summary.unit) of the sample and the format the Value cell must carry.
UNIT_FORMATS = {
    "USD": report_workbook.MONEY,
    "ratio": report_workbook.PERCENT,
    "movies": report_workbook.INTEGER,
    "score_0_10": "0.00",
    "tmdb_popularity": "0.00",
}


def _excel(value: Any) -> Any:
    """What to expect when openpyxl reads ``value`` back: dates are datetimes at midnight,
    aware datetimes naive UTC, empty text an empty cell, and floats equal to about 15
    significant digits (openpyxl writes no more)."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12)
    if value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return value


def _same_instant(found: datetime, expected: datetime) -> bool:
    # Excel keeps milliseconds: the microseconds DuckDB stores are rounded away.
    return abs(found - _excel(expected)) <= timedelta(milliseconds=1)


@pytest.fixture(scope="module")
def gold(sample_run) -> dict[str, Any]:
    """The gold rows the reports read, in the order the workbook writes them."""
    with duckdb.connect(str(sample_run.settings.duckdb_path), read_only=True) as conn:
        return {
            "movies": conn.execute(report_workbook.MOVIES_QUERY).fetchall(),
            "genre_roi": conn.execute(report_workbook.GENRE_ROI_QUERY).fetchall(),
            "kpis": conn.execute(report_workbook.KPI_QUERY).fetchall(),
            "kpi_reading_order": [kpi for (kpi,) in conn.execute("SELECT kpi FROM gold.kpi_summary GROUP BY kpi ORDER BY min(kpi_order)").fetchall()],
            "dead_letters": conn.execute(report_workbook.DEAD_LETTER_QUERY).fetchall(),
            "as_of": conn.execute("SELECT * FROM gold.rpt_as_of").fetchall(),
            "credits_coverage": conn.execute("SELECT count(*) FILTER (WHERE credits_known), count(*) FROM gold.dim_movie").fetchone(),
            "chart_rows": {name: conn.execute(query).fetchone()[0] for name, query in CHART_ROWS.items()},
        }


@pytest.fixture(scope="module")
def workbook_path(sample_run) -> Path:
    return sample_run.settings.reports_dir / report_workbook.WORKBOOK_NAME


@pytest.fixture(scope="module")
def workbook(workbook_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(workbook_path)


@pytest.fixture(scope="module")
def materializations(sample_run) -> dict[AssetKey, dict[str, Any]]:
    """Metadata values of the run's report materializations, by asset key."""
    return {
        event.asset_key: {name: entry.value for name, entry in event.materialization.metadata.items()}
        for event in sample_run.result.get_asset_materialization_events()
        if event.asset_key.path[0] == "reports"
    }


def _data_rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def test_movies_sheet_is_dim_movie(workbook: openpyxl.Workbook, workbook_path: Path, gold: dict[str, Any]):
    assert workbook.sheetnames == ["Movies", "Genre ROI", "KPIs", "Dead letters", "Changes", "About"]
    movies = workbook["Movies"]
    assert [cell.value for cell in movies[1]] == [column.header for column in report_workbook.MOVIES_COLUMNS]
    assert movies.freeze_panes == "A2"
    assert movies.auto_filter.ref == f"A1:H{len(gold['movies']) + 1}"
    expected = [tuple(map(_excel, row)) for row in gold["movies"]]
    assert len(expected) == 300
    assert _data_rows(movies) == expected
    assert report_workbook.count_movies_rows(workbook_path) == len(expected)
    # Every column of a full row carries its format (real BIGINT, DOUBLE and DATE values).
    full_row = next(row for row in movies.iter_rows(min_row=2) if all(cell.value is not None for cell in row))
    assert [cell.number_format for cell in full_row] == [column.number_format or "General" for column in report_workbook.MOVIES_COLUMNS]


def test_action_movies_are_bold_red(workbook: openpyxl.Workbook, gold: dict[str, Any]):
    action = {row[0] for row in gold["movies"] if "Action" in (row[3] or "").split(", ")}
    assert len(action) > 50
    for row in workbook["Movies"].iter_rows(min_row=2):
        highlighted = [
            bool(cell.font.bold) and cell.font.color is not None and cell.font.color.rgb == "FFC00000" for cell in row if cell.value is not None
        ]
        assert highlighted == [row[0].value in action] * len(highlighted), row[0].value


def test_genre_roi_sheet_is_mart_genre_roi(workbook: openpyxl.Workbook, gold: dict[str, Any]):
    sheet = workbook["Genre ROI"]
    assert [cell.value for cell in sheet[1]] == [column.header for column in report_workbook.GENRE_ROI_COLUMNS]
    assert len(gold["genre_roi"]) > 5
    assert _data_rows(sheet) == [tuple(map(_excel, row)) for row in gold["genre_roi"]]
    for row in sheet.iter_rows(min_row=2):
        assert [cell.number_format for cell in row] == [column.number_format or "General" for column in report_workbook.GENRE_ROI_COLUMNS]


def _is_kpi_title(cell) -> bool:
    return bool(cell.font.bold) and cell.font.sz == 13


def test_kpi_sheet_is_kpi_summary(workbook: openpyxl.Workbook, gold: dict[str, Any]):
    rows = list(workbook["KPIs"].iter_rows())
    data = [row for row in rows if row and isinstance(row[0].value, int)]

    # Both sides sorted on every column but the value, which Excel keeps to 15 digits.
    def without_value(row: tuple) -> tuple:
        return tuple(str(cell) for cell in row[:4] + row[5:])

    found = sorted((tuple(cell.value for cell in row) for row in data), key=without_value)
    # The sheet shows rank .. unit; the coverage columns become a line per KPI (tested below).
    expected = sorted((tuple(map(_excel, row[1:7])) for row in gold["kpis"]), key=without_value)
    assert found == expected
    assert {row[5].value for row in data} == set(UNIT_FORMATS)
    for row in data:
        assert row[4].number_format == UNIT_FORMATS[row[5].value], (row[1].value, row[3].value)
    kpis = {row[0] for row in gold["kpis"]}
    titles = [row[0].value for row in rows if _is_kpi_title(row[0])]
    order = gold["kpi_reading_order"]
    assert set(order) == kpis and order[0] == "highest_revenue"
    assert titles == [kpi.replace("_", " ").capitalize() for kpi in order]


def test_credit_kpis_say_how_many_movies_they_cover(workbook: openpyxl.Workbook, gold: dict[str, Any]):
    """The line under each KPI title: "Covers the N of M movies with known credits" exactly for
    the KPIs whose gold rows carry movies_with_credits, N and M those of gold.dim_movie."""
    with_credits, total = gold["credits_coverage"]
    covering = {row[0] for row in gold["kpis"] if row[7] is not None}
    assert covering == {"top_director_by_revenue", "top_director_by_median_roi", "top_director_by_rating", "top_actor_by_revenue"}
    assert {(row[7], row[8]) for row in gold["kpis"] if row[0] in covering} == {(with_credits, total)}
    assert 0 < with_credits < total  # the sample has credits for only some movies (101 of 300)
    rows = list(workbook["KPIs"].iter_rows())
    lines = {
        title[0].value: below[0].value if below[0].value != "Rank" else None
        for title, below in zip(rows, rows[1:], strict=False)
        if _is_kpi_title(title[0])
    }
    expected = {
        kpi.replace("_", " ").capitalize(): (f"Covers the {with_credits:,} of {total:,} movies with known credits" if kpi in covering else None)
        for kpi in {row[0] for row in gold["kpis"]}
    }
    assert lines == expected


def test_dead_letters_sheet_is_the_reported_days_dead_letters(workbook: openpyxl.Workbook, gold: dict[str, Any]):
    found = _data_rows(workbook["Dead letters"])
    expected = gold["dead_letters"]
    # EXPECTED.md: 9 rejected and 5 duplicate rows of the ID list, 10 ids answering 404.
    assert len(found) == len(expected) == 24
    assert [row[4] for row in expected].count("not-found") == 10
    for found_row, expected_row in zip(found, expected, strict=True):
        assert found_row[:-1] == tuple(map(_excel, expected_row[:-1]))
        assert _same_instant(found_row[-1], expected_row[-1]), found_row


def test_about_sheet_names_the_partition_and_the_run(workbook: openpyxl.Workbook, gold: dict[str, Any], sample_run):
    about = dict(_data_rows(workbook["About"]))
    [(partition, fetched_at, fetched_by_run_id, movies_in_partition, tmdb_source, observed_date, observed_late)] = gold["as_of"]
    assert about["Partition"] == partition.isoformat() == "2026-11-20"
    assert _same_instant(about["TMDB fetched at (UTC)"], fetched_at)
    assert about["TMDB fetched by run id"] == fetched_by_run_id
    assert about["Movies in partition"] == movies_in_partition == 300
    assert about["TMDB source"] == tmdb_source == sample_run.settings.tmdb_source
    assert about["Dagster run id"] == sample_run.result.run_id
    # The sample day was fetched after it (a refetch): the sheet says so and lists the late day.
    assert observed_late and observed_date == fetched_at.astimezone(UTC).date()
    assert about["Partition observed"] == (f"LATE: TMDB values of {observed_date}, fetched after the day (TMDB serves only current values)")
    assert about["Late days (values fetched after the day)"] == f"2026-11-20 (values of {observed_date}, 300 of 300 movies)"
    assert about["Sources"] == report_workbook.SOURCES and about["Attribution"] == report_workbook.TMDB_ATTRIBUTION
    assert {sheet: about[f"Rows: {sheet}"] for sheet in ("Movies", "Genre ROI", "KPIs", "Dead letters")} == {
        "Movies": len(gold["movies"]),
        "Genre ROI": len(gold["genre_roi"]),
        "KPIs": len(gold["kpis"]),
        "Dead letters": len(gold["dead_letters"]),
    }


def test_no_cell_is_a_formula(workbook: openpyxl.Workbook, workbook_path: Path):
    formula_like = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if report_workbook.is_formula_like(cell.value)]
    # The sample's ID list has a row "-12", reported as a dead letter's raw value.
    assert "-12" in {cell.value for cell in formula_like}
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in formula_like)
    with zipfile.ZipFile(workbook_path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


def test_workbook_materialization(materializations: dict[AssetKey, dict[str, Any]], gold: dict[str, Any], workbook_path: Path):
    metadata = materializations[WORKBOOK_KEY]
    assert metadata["path"] == str(workbook_path)
    assert metadata["partition"] == gold["as_of"][0][0].isoformat()
    assert metadata["dagster/row_count"] == metadata["rows_movies"] == len(gold["movies"])
    assert (metadata["rows_genre_roi"], metadata["rows_kpis"], metadata["rows_dead_letters"]) == (
        len(gold["genre_roi"]),
        len(gold["kpis"]),
        len(gold["dead_letters"]),
    )


def test_charts_are_full_size_pngs(sample_run):
    folder = sample_run.settings.reports_dir / charts.CHARTS_DIR
    # No other file, in particular no temp file of an interrupted atomic write.
    assert sorted(path.name for path in folder.iterdir()) == sorted(CHARTS.values())
    for name in CHARTS.values():
        path = folder / name
        assert path.read_bytes().startswith(charts.PNG_SIGNATURE), name
        assert charts.png_size(path) == (charts.WIDTH_PX, charts.HEIGHT_PX), name
        assert path.stat().st_size > 20_000, name  # a blank 1200x800 PNG is ~5 KB


def test_charts_plot_every_gold_row_and_embed_the_image(materializations: dict[AssetKey, dict[str, Any]], gold: dict[str, Any], sample_run):
    folder = sample_run.settings.reports_dir / charts.CHARTS_DIR
    for key, name in CHARTS.items():
        metadata = materializations[key]
        assert metadata["path"] == str(folder / name)
        assert metadata["plotted_points"] == gold["chart_rows"][name] > 0, name
        markdown = metadata["chart"]
        encoded = markdown[markdown.index("(data:image/png;base64,") + len("(data:image/png;base64,") : -1]
        assert base64.b64decode(encoded) == (folder / name).read_bytes(), name


def test_report_checks_passed(sample_run, gold: dict[str, Any]):
    evaluations = {evaluation.asset_check_key: evaluation for evaluation in sample_run.result.get_asset_check_evaluations()}
    for key in REPORT_CHECKS:
        assert key in evaluations, f"{key} did not run"
        assert evaluations[key].passed, (key, evaluations[key].metadata)
    workbook_check = {name: entry.value for name, entry in evaluations[REPORT_CHECKS[0]].metadata.items()}
    assert workbook_check["workbook_rows"] == workbook_check["dim_movie_rows"] == len(gold["movies"])
    for key in REPORT_CHECKS[1:]:
        metadata = {name: entry.value for name, entry in evaluations[key].metadata.items()}
        assert (metadata["width_px"], metadata["height_px"]) == (charts.WIDTH_PX, charts.HEIGHT_PX), key
