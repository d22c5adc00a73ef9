"""The stakeholder workbook without dbt: cell conversion (:func:`excel_value`, formula-like
text), layout, number formats, Action highlighting, formula injection and the KPI/Dead
letters/About sheets of a workbook written from hand-made rows; :func:`count_movies_rows`;
the atomic save keeping the previous workbook when rows fail or the save crashes; and the
``movie_data_xlsx`` asset with its check on a tiny hand-made warehouse holding only gold
tables. The workbook of the real sample run is tested in tests/integration/test_reports.py."""

import gc
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from dagster import materialize
from dagster_duckdb import DuckDBResource

from movie_assets.paths import PipelinePaths
from movie_assets.reports import checks as report_checks
from movie_assets.reports import workbook as report_workbook

MOVIES = [
    (1, "Plain Drama", 6.5, "Drama", date(2001, 2, 3), 1_000_000, 3_000_000, 2.0),
    (2, '=HYPERLINK("http://evil")', 7.25, "Action, Thriller", date(2010, 1, 1), None, None, None),
    (3, "+1-2", 0.0, "Adventure, Fantasy", None, 5, 0, -1.0),
    (4, "@SUM(A1)", 10.0, "Action", date(1999, 12, 31), 10, 20, 1.0),
    (5, "-12", 5.0, "", date(2020, 6, 1), None, 7, None),
    (6, "\tTabbed\x07bell", 5.0, "Animation, Family", date(2020, 6, 1), None, None, None),
]
GENRE_ROI = [
    ("Action", 12, 1.5, 1.2, 1.7, 0.75, -0.9, 9.0, 1, 2, 1_000_000_000, 2_700_000_000, 1_700_000_000, 6.4, 40.2),
    ("Drama", 11, 0.5, 0.3, 0.4, 0.55, -1.0, 4.0, 2, 1, 500_000_000, 700_000_000, 200_000_000, 6.9, 20.0),
]
# gold.kpi_summary rows in KPI_QUERY order (kpi_order, then rank); the credit-based (director,
# actor) ones say how many movies have known credits, the others carry NULL there.
KPIS = [
    ("highest_revenue", 1, "Avatar", "movie", "revenue_usd", 2_787_965_087.0, "USD", None, 300),
    ("highest_revenue", 2, "Titanic", "movie", "revenue_usd", 1_845_034_188.0, "USD", None, 300),
    ("highest_roi", 1, "=cmd|' /C calc'!A0", "movie", "roi", 12.5, "ratio", None, 300),
    ("top_director_by_revenue", 1, "James Cameron", "director", "total_revenue_usd", 4_632_999_275.0, "USD", 101, 300),
    ("top_director_by_revenue", 2, "Joss Whedon", "director", "total_revenue_usd", 2_924_957_045.0, "USD", 101, 300),
    ("top_director_by_median_roi", 1, "Sam Raimi", "director", "median_roi", 3.25, "ratio", 101, 300),
    ("top_actor_by_revenue", 1, "Zoe Saldaña", "actor", "total_revenue_usd", 7_000_000_000.0, "USD", 101, 300),
    ("franchise_vs_standalone", 1, "franchise", "segment", "movie_count", 32.0, "movies", None, 300),
]
# gold.kpi_summary's kpi_order of these KPIs (its reading order).
KPI_ORDER = {
    "highest_revenue": 1,
    "highest_roi": 4,
    "top_director_by_revenue": 9,
    "top_director_by_median_roi": 10,
    "top_actor_by_revenue": 12,
    "franchise_vs_standalone": 14,
}
CREDIT_KPIS = {"top_director_by_revenue", "top_director_by_median_roi", "top_actor_by_revenue"}
DEAD_LETTERS = [
    ("ids-file", "-12", None, 221, "non-positive", None, 0, None, date(2026, 11, 20), "run-1", datetime(2026, 11, 20, 6, 0, tzinfo=UTC)),
    ("fetch", "9000013", 9000013, None, "not-found", 404, 1, "HTTP 404", date(2026, 11, 20), "run-1", datetime(2026, 11, 20, 6, 1, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (7, 7),
        (2.5, 2.5),
        (Decimal("1.25"), Decimal("1.25")),
        ("plain", "plain"),
        ("bell\x07and\x00nul", "bellandnul"),
        (date(2026, 11, 20), date(2026, 11, 20)),
        (datetime(2026, 11, 20, 6, 0), datetime(2026, 11, 20, 6, 0)),
        (datetime(2026, 11, 20, 8, 0, tzinfo=timezone(timedelta(hours=2))), datetime(2026, 11, 20, 6, 0)),
        (["Action", "Drama"], "Action, Drama"),
        (("Comedy",), "Comedy"),
        (Path("a/b"), "a/b"),
    ],
)
def test_excel_value(value, expected):
    converted = report_workbook.excel_value(value)
    assert converted == expected and type(converted) is type(expected)
    if isinstance(converted, datetime):
        assert converted.tzinfo is None


@pytest.mark.parametrize(
    ("value", "formula_like"),
    [
        ("=1+1", True),
        ("+1", True),
        ("-12", True),
        ("@SUM(A1)", True),
        ("\tx", True),
        ("\rx", True),
        ("Avatar", False),
        ("1-2", False),
        ("", False),
        (-12, False),
        (None, False),
    ],
)
def test_is_formula_like(value, formula_like: bool):
    assert report_workbook.is_formula_like(value) is formula_like


@pytest.fixture(scope="module")
def workbook_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reports") / report_workbook.WORKBOOK_NAME
    counts = report_workbook.write_report_workbook(
        path,
        iter(MOVIES),
        GENRE_ROI,
        KPIS,
        DEAD_LETTERS,
        about=[("Dagster run id", "run-1"), ("Partition", "2026-11-20")],
        movie_count=len(MOVIES),
    )
    assert counts == {"Movies": 6, "Genre ROI": 2, "KPIs": len(KPIS), "Dead letters": 2, "Changes": 0}
    return path


@pytest.fixture(scope="module")
def workbook(workbook_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(workbook_path)


def test_sheets_and_movies_layout(workbook: openpyxl.Workbook):
    assert workbook.sheetnames == ["Movies", "Genre ROI", "KPIs", "Dead letters", "Changes", "About"]
    movies = workbook["Movies"]
    header = [cell.value for cell in movies[1]]
    assert header == ["ID", "Title", "Vote Average", "Genres", "Release Date", "Budget (USD)", "Revenue (USD)", "ROI"]
    assert all(cell.font.bold for cell in movies[1])
    assert movies.freeze_panes == "A2"
    assert movies.auto_filter.ref == "A1:H7"
    assert movies.column_dimensions["B"].width >= 30 and movies.column_dimensions["A"].width < 15
    assert [row[0] for row in movies.iter_rows(min_row=2, values_only=True)] == [1, 2, 3, 4, 5, 6]


def test_number_formats(workbook: openpyxl.Workbook):
    row = workbook["Movies"][2]
    assert row[4].number_format == "yyyy-mm-dd" and row[4].value == datetime(2001, 2, 3)
    assert row[5].number_format == row[6].number_format == '"$"#,##0'
    assert row[7].number_format == "0.0%" and row[7].value == 2.0
    genre = workbook["Genre ROI"]
    assert [c.number_format for c in genre[2][2:6]] == ["0.0%"] * 4
    assert genre[2][10].number_format == '"$"#,##0'


def test_action_rows_are_bold_red_across_the_row(workbook: openpyxl.Workbook):
    movies = workbook["Movies"]
    for row in movies.iter_rows(min_row=2):
        is_action = "Action" in (row[3].value or "").split(", ")
        for cell in row:
            if cell.value is None:
                continue
            red = cell.font.color is not None and cell.font.color.rgb == "FFC00000"
            assert (bool(cell.font.bold) and red) == is_action, (cell.coordinate, cell.value)
    assert sum(1 for row in movies.iter_rows(min_row=2) if row[0].font.bold) == 2


def test_formula_like_text_is_stored_as_text(workbook_path: Path, workbook: openpyxl.Workbook):
    movies = workbook["Movies"]
    titles = {row[0].value: row[1] for row in movies.iter_rows(min_row=2)}
    for movie_id, expected in [(2, '=HYPERLINK("http://evil")'), (3, "+1-2"), (4, "@SUM(A1)"), (5, "-12")]:
        cell = titles[movie_id]
        assert cell.value == expected and cell.data_type == "s" and cell.quotePrefix, movie_id
    # Excel forbids control characters; the bell is dropped, the leading tab kept as text.
    assert titles[6].value == "\tTabbedbell" and titles[6].quotePrefix
    dead = workbook["Dead letters"]
    assert dead["B2"].value == "-12" and dead["B2"].data_type == "s"
    kpi_subjects = [c.value for c in workbook["KPIs"]["B"]]
    assert "=cmd|' /C calc'!A0" in kpi_subjects
    with zipfile.ZipFile(workbook_path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


def _kpi_titles(sheet) -> list[str]:
    """The KPI table titles of sheet "KPIs", top to bottom (the bold 13 pt cells)."""
    return [row[0].value for row in sheet.iter_rows() if row[0].font.bold and row[0].font.sz == 13]


def test_kpi_sheet_has_one_table_per_kpi(workbook: openpyxl.Workbook):
    sheet = workbook["KPIs"]
    assert _kpi_titles(sheet) == [
        "Highest revenue",
        "Highest roi",
        "Top director by revenue",
        "Top director by median roi",
        "Top actor by revenue",
        "Franchise vs standalone",
    ]
    rows = list(sheet.iter_rows(values_only=True))
    assert sum(1 for row in rows if row[:2] == ("Rank", "Subject")) == 6
    avatar = next(row for row in sheet.iter_rows() if row[1].value == "Avatar")
    assert avatar[4].number_format == '"$"#,##0'
    roi = next(row for row in sheet.iter_rows() if row[3].value == "roi")
    assert roi[4].number_format == "0.0%"
    count = next(row for row in sheet.iter_rows() if row[3].value == "movie_count")
    assert count[4].number_format == "#,##0"


@pytest.mark.parametrize(
    ("subject", "number_format"),
    [("James Cameron", '"$"#,##0'), ("Zoe Saldaña", '"$"#,##0'), ("Sam Raimi", "0.0%")],
)
def test_credit_kpi_values_are_formatted_by_unit(workbook: openpyxl.Workbook, subject: str, number_format: str):
    row = next(row for row in workbook["KPIs"].iter_rows() if row[1].value == subject)
    assert row[4].number_format == number_format


def test_kpi_coverage_line_only_under_credit_kpis(workbook: openpyxl.Workbook):
    """Right under its title, each KPI with movies_with_credits says how many movies it covers;
    no other KPI has such a line."""
    sheet = workbook["KPIs"]
    rows = list(sheet.iter_rows())
    covered = {}
    for index, row in enumerate(rows):
        if row[0].font.bold and row[0].font.sz == 13:
            below = rows[index + 1][0]
            kpi = row[0].value.lower().replace(" ", "_")
            covered[kpi] = below.value if below.value != "Rank" else None
    assert set(covered) == {row[0] for row in KPIS}
    for kpi, line in covered.items():
        if kpi in CREDIT_KPIS:
            assert line == "Covers the 101 of 300 movies with known credits", kpi
        else:
            assert line is None, kpi
    notes = [row[0] for row in rows if isinstance(row[0].value, str) and row[0].value.startswith("Covers the ")]
    assert len(notes) == len(CREDIT_KPIS)
    assert all(note.font.italic and not note.font.bold for note in notes)
    # The ranked rows alone are counted, not the coverage lines.
    assert sum(1 for row in rows if isinstance(row[0].value, int)) == len(KPIS)


def test_dead_letters_and_about(workbook: openpyxl.Workbook):
    dead = workbook["Dead letters"]
    assert [c.value for c in dead[1]][:5] == ["Source", "Raw Value", "Movie ID", "Row Number", "Reason"]
    assert dead["E3"].value == "not-found" and dead["K3"].value == datetime(2026, 11, 20, 6, 1)
    about = dict(workbook["About"].iter_rows(min_row=2, values_only=True))
    assert about["Partition"] == "2026-11-20" and about["Dagster run id"] == "run-1"
    assert about["Rows: Movies"] == 6 and about["Rows: Dead letters"] == 2


def test_count_movies_rows_reads_back(workbook_path: Path):
    assert report_workbook.count_movies_rows(workbook_path) == len(MOVIES)


def test_count_movies_rows_needs_a_movies_sheet(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        report_workbook.count_movies_rows(tmp_path / "missing.xlsx")
    other = openpyxl.Workbook()
    other.active.title = "Other"
    other.save(tmp_path / "other.xlsx")
    with pytest.raises(KeyError):
        report_workbook.count_movies_rows(tmp_path / "other.xlsx")


def _gold_warehouse(path: Path) -> None:
    """A warehouse holding only the gold tables the workbook reads, filled with the rows above."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA gold")
        conn.execute(
            "CREATE TABLE gold.dim_movie (movie_id BIGINT, title VARCHAR, vote_average DOUBLE, genres VARCHAR, "
            "release_date DATE, budget_usd BIGINT, revenue_usd BIGINT, roi DOUBLE)"
        )
        conn.executemany("INSERT INTO gold.dim_movie VALUES (?, ?, ?, ?, ?, ?, ?, ?)", MOVIES)
        conn.execute(
            "CREATE TABLE gold.mart_genre_roi (genre_name VARCHAR, total_movies BIGINT, avg_roi DOUBLE, "
            "median_roi DOUBLE, portfolio_roi DOUBLE, pct_profitable DOUBLE, min_roi DOUBLE, max_roi DOUBLE, "
            "roi_rank BIGINT, portfolio_roi_rank BIGINT, total_budget HUGEINT, total_revenue HUGEINT, "
            "total_profit HUGEINT, avg_vote_average DOUBLE, avg_popularity DOUBLE)"
        )
        conn.executemany(f"INSERT INTO gold.mart_genre_roi VALUES ({', '.join(['?'] * 15)})", GENRE_ROI)
        conn.execute(
            "CREATE TABLE gold.kpi_summary (kpi VARCHAR, rank INTEGER, subject_name VARCHAR, subject_type VARCHAR, "
            "metric VARCHAR, value DOUBLE, unit VARCHAR, movies_with_credits BIGINT, movies_total BIGINT, "
            "kpi_order INTEGER)"
        )
        # Inserted alphabetically: the workbook's order must come from kpi_order.
        conn.executemany(
            "INSERT INTO gold.kpi_summary VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, KPI_ORDER[row[0]]) for row in sorted(KPIS)],
        )
        conn.execute(
            "CREATE TABLE gold.rpt_tmdb_dead_letters (source VARCHAR, raw_value VARCHAR, movie_id BIGINT, "
            "row_number INTEGER, reason VARCHAR, http_status INTEGER, attempts INTEGER, last_error VARCHAR, "
            "partition_date DATE, run_id VARCHAR, recorded_at TIMESTAMPTZ)"
        )
        conn.executemany(f"INSERT INTO gold.rpt_tmdb_dead_letters VALUES ({', '.join(['?'] * 11)})", DEAD_LETTERS)
        conn.execute(
            "CREATE TABLE gold.rpt_as_of AS SELECT DATE '2026-11-20' AS partition_date, "
            "TIMESTAMPTZ '2026-11-20 06:02:00+00' AS fetched_at, 'run-1' AS fetched_by_run_id, "
            "6::BIGINT AS movies_in_partition, 'snapshot' AS tmdb_source, "
            "DATE '2026-11-20' AS observed_date, false AS observed_late"
        )
        # 2026-11-18 holds values fetched on 2026-11-21: a late day the About sheet lists.
        conn.execute(
            "CREATE TABLE gold.rpt_late_observations AS SELECT DATE '2026-11-18' AS snapshot_date, "
            "DATE '2026-11-21' AS first_observed_date, DATE '2026-11-21' AS last_observed_date, "
            "4::BIGINT AS late_movies, 6::BIGINT AS movies"
        )
        conn.execute(
            "CREATE TABLE gold.rpt_changes_of_the_day AS SELECT * FROM (VALUES "
            "(DATE '2026-11-20', 2::BIGINT, 'Two', 'revenue_usd', '100', '120', 'revised'), "
            "(DATE '2026-11-20', 1::BIGINT, 'One', 'status', 'Post Production', 'Released', 'revised')) "
            "AS changes (change_date, movie_id, title, attribute, old_value, new_value, change_kind)"
        )


def test_asset_reads_only_gold_and_reports_the_gold_partition(tmp_path: Path):
    """The asset and its check on a warehouse with no bronze or silver schema; the run's
    partition tag (another day) does not change the reported partition."""
    _gold_warehouse(tmp_path / "gold_only.duckdb")
    resources = {
        "duckdb": DuckDBResource(database=str(tmp_path / "gold_only.duckdb")),
        "paths": PipelinePaths(input_dir=str(tmp_path), reports_dir=str(tmp_path / "reports")),
    }
    result = materialize(
        [report_workbook.movie_data_xlsx, report_checks.movie_data_xlsx_matches_dim_movie],
        resources=resources,
        tags={"dagster/partition": "2026-11-01"},
    )
    assert result.success
    metadata = result.asset_materializations_for_node("reports__movie_data_xlsx")[0].metadata
    assert metadata["partition"].value == "2026-11-20" and metadata["rows_dead_letters"].value == 2
    assert all(evaluation.passed for evaluation in result.get_asset_check_evaluations())
    workbook = openpyxl.load_workbook(tmp_path / "reports" / report_workbook.WORKBOOK_NAME)
    about = dict(workbook["About"].iter_rows(min_row=2, values_only=True))
    assert about["Partition"] == "2026-11-20" and about["Dagster run id"] == result.run_id
    assert about["TMDB fetched at (UTC)"] == datetime(2026, 11, 20, 6, 2)
    assert about["TMDB fetched by run id"] == "run-1" and about["Movies in partition"] == 6
    assert about["TMDB source"] == "snapshot"
    assert about["Partition observed"] == "on time"
    assert about["Late days (values fetched after the day)"] == "2026-11-18 (values of 2026-11-21, 4 of 6 movies)"
    assert [row[0] for row in workbook["Dead letters"].iter_rows(min_row=2, values_only=True)] == ["fetch", "ids-file"]
    assert about["Rows: Movies"] == 6 and about["Rows: Genre ROI"] == 2 and about["Rows: KPIs"] == len(KPIS)
    # The day's changes, sorted by movie; the KPI sheet says its money figures are current values.
    changes = list(workbook["Changes"].iter_rows(min_row=2, values_only=True))
    assert [row[:6] for row in changes] == [
        (1, "One", "status", "Post Production", "Released", "revised"),
        (2, "Two", "revenue_usd", "100", "120", "revised"),
    ]
    assert about["Rows: Changes"] == 2
    assert next(workbook["KPIs"].iter_rows(values_only=True))[0] == report_workbook.KPI_CURRENT_VALUES_NOTE
    # The coverage columns are read from gold.kpi_summary, not only passed in by hand.
    kpi_rows = list(workbook["KPIs"].iter_rows(values_only=True))
    title = kpi_rows.index(("Top director by revenue",) + (None,) * (len(kpi_rows[0]) - 1))
    assert kpi_rows[title + 1][0] == "Covers the 101 of 300 movies with known credits"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_failed_write_keeps_previous_workbook(tmp_path: Path):
    path = tmp_path / report_workbook.WORKBOOK_NAME
    report_workbook.write_report_workbook(path, MOVIES[:2])
    before = path.read_bytes()

    def exploding_rows():
        yield MOVIES[0]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        report_workbook.write_report_workbook(path, exploding_rows())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [report_workbook.WORKBOOK_NAME]
    # The abandoned write-only workbook's row generators complain when finalized; collect them
    # here, where the filterwarnings mark applies, rather than during some later test.
    gc.collect()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_crash_while_saving_leaves_no_half_written_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / report_workbook.WORKBOOK_NAME
    report_workbook.write_report_workbook(path, MOVIES[:2])
    before = path.read_bytes()

    def half_save(self, filename):
        Path(filename).write_bytes(b"PK\x03\x04 truncated")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", half_save)
    with pytest.raises(OSError, match="disk full"):
        report_workbook.write_report_workbook(path, MOVIES)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [report_workbook.WORKBOOK_NAME]
    # The abandoned write-only workbook's row generators complain when finalized; collect them
    # here, where the filterwarnings mark applies, rather than during some later test.
    gc.collect()
