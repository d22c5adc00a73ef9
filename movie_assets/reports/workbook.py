"""The stakeholder Excel workbook ``movie_data.xlsx`` (openpyxl write-only mode), written atomically.

Reads only gold tables; which TMDB day is reported is decided in dbt (``gold.rpt_as_of``).
Sheets, their columns and sources (money in USD, nominal; ROI a ratio shown as %):

- "Movies": one row per ``gold.dim_movie`` movie, sorted by ID: ID (BIGINT), Title,
  Vote Average (0-10), Genres ("A, B"), Release Date (DATE), Budget (USD), Revenue (USD),
  ROI; rows whose genres include Action are bold red.
- "Genre ROI": ``gold.mart_genre_roi``, one row per genre (:data:`GENRE_ROI_COLUMNS`).
- "KPIs": ``gold.kpi_summary``, one small table per KPI: Rank, Subject, Type, Metric,
  Value (formatted by its unit), Unit. The director and actor KPIs rank only the movies
  whose credits are known; their title is followed by a line such as "Covers the 101 of
  300 movies with known credits" (``movies_with_credits`` of ``movies_total``).
- "Dead letters": ``gold.rpt_tmdb_dead_letters``, the reported day's TMDB dead letters
  (:data:`DEAD_LETTER_COLUMNS`).
- "Changes": ``gold.rpt_changes_of_the_day``, the tracked movie attributes that changed on the
  reported day, sorted by movie (:data:`CHANGES_COLUMNS`). The money figures of "Movies" and
  "KPIs" stay on current values (each movie's latest fetch); the KPI sheet says so.
- "About": report name, generated at (UTC), the Dagster run that wrote it, the reported
  partition and its fetch (``gold.rpt_as_of``), whether that day's values were observed on
  time or late, every late day (``gold.rpt_late_observations``), sources, TMDB attribution,
  rows per sheet.

Rows are streamed from DuckDB into openpyxl's write-only worksheets, so memory stays flat
however many movies there are; every style is fixed before the first row is written.
"""

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, NamedStyle, PatternFill
from openpyxl.utils import get_column_letter

from movie_assets.atomic_write import atomic_output
from movie_assets.paths import PipelinePaths

WORKBOOK_NAME = "movie_data.xlsx"
TMDB_ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
FETCH_BATCH_ROWS = 10_000

MONEY = '"$"#,##0'
PERCENT = "0.0%"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"
INTEGER = "#,##0"
DECIMAL_1 = "0.0"
DECIMAL_2 = "#,##0.00"

# Text starting with these is treated as a formula (or DDE payload) by Excel and LibreOffice.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True, color="FFFFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="FF1F4E78")
_ACTION_FONT = Font(bold=True, color="FFC00000")
_TITLE_FONT = Font(bold=True, size=13)
_NOTE_FONT = Font(italic=True, color="FF595959")
_KEY_FONT = Font(bold=True)


@dataclass(frozen=True)
class Column:
    """One worksheet column: header text, width in Excel character units, number format."""

    header: str
    width: float
    number_format: str | None = None


MOVIES_COLUMNS = (
    Column("ID", 10, "0"),
    Column("Title", 42),
    Column("Vote Average", 13, DECIMAL_1),
    Column("Genres", 40),
    Column("Release Date", 13, DATE),
    Column("Budget (USD)", 17, MONEY),
    Column("Revenue (USD)", 17, MONEY),
    Column("ROI", 11, PERCENT),
)
MOVIES_QUERY = """
    SELECT movie_id, title, vote_average, genres, release_date, budget_usd, revenue_usd, roi
    FROM gold.dim_movie ORDER BY movie_id
"""

GENRE_ROI_COLUMNS = (
    Column("Genre", 18),
    Column("Movies", 9, INTEGER),
    Column("Mean ROI", 11, PERCENT),
    Column("Median ROI", 12, PERCENT),
    Column("Portfolio ROI", 14, PERCENT),
    Column("Profitable", 11, PERCENT),
    Column("Min ROI", 11, PERCENT),
    Column("Max ROI", 12, PERCENT),
    Column("ROI Rank", 10, "0"),
    Column("Portfolio ROI Rank", 19, "0"),
    Column("Total Budget (USD)", 20, MONEY),
    Column("Total Revenue (USD)", 21, MONEY),
    Column("Total Profit (USD)", 20, MONEY),
    Column("Mean Vote Average", 18, "0.00"),
    Column("Mean Popularity", 16, "0.00"),
)
GENRE_ROI_QUERY = """
    SELECT genre_name, total_movies, avg_roi, median_roi, portfolio_roi, pct_profitable, min_roi,
           max_roi, roi_rank, portfolio_roi_rank, total_budget, total_revenue, total_profit,
           avg_vote_average, avg_popularity
    FROM gold.mart_genre_roi ORDER BY portfolio_roi_rank, genre_name
"""

KPI_COLUMNS = (
    Column("Rank", 8, "0"),
    Column("Subject", 40),
    Column("Type", 12),
    Column("Metric", 22),
    Column("Value", 18),
    Column("Unit", 10),
)
KPI_QUERY = """
    SELECT kpi, rank, subject_name, subject_type, metric, value, unit, movies_with_credits, movies_total
    FROM gold.kpi_summary ORDER BY kpi_order, rank, metric
"""

DEAD_LETTER_COLUMNS = (
    Column("Source", 10),
    Column("Raw Value", 16),
    Column("Movie ID", 11, "0"),
    Column("Row Number", 12, "0"),
    Column("Reason", 16),
    Column("HTTP Status", 12, "0"),
    Column("Attempts", 10, "0"),
    Column("Last Error", 50),
    Column("Partition Date", 15, DATE),
    Column("Run ID", 38),
    Column("Recorded At (UTC)", 20, DATETIME),
)
DEAD_LETTER_QUERY = """
    SELECT source, raw_value, movie_id, row_number, reason, http_status, attempts, last_error,
           partition_date, run_id, recorded_at
    FROM gold.rpt_tmdb_dead_letters
    ORDER BY source, row_number NULLS LAST, movie_id NULLS LAST
"""
CHANGES_COLUMNS = (
    Column("Movie ID", 11, "0"),
    Column("Title", 42),
    Column("Attribute", 18),
    Column("Old Value", 30),
    Column("New Value", 30),
    Column("Change", 10),
    Column("Date", 13, DATE),
)
CHANGES_QUERY = """
    SELECT movie_id, title, attribute, old_value, new_value, change_kind, change_date
    FROM gold.rpt_changes_of_the_day
    ORDER BY movie_id, attribute
"""
#: The first line of sheet "KPIs": its figures are not the history's.
KPI_CURRENT_VALUES_NOTE = (
    "Money figures are current values (each movie's latest fetch); the day's revisions are on sheet Changes, the history in gold.dim_movie_history"
)
# One row: the reported partition (YYYY-MM-DD text, as the About sheet has always shown it).
AS_OF_QUERY = """
    SELECT CAST(partition_date AS VARCHAR), fetched_at, fetched_by_run_id, movies_in_partition, tmdb_source,
           observed_date, observed_late
    FROM gold.rpt_as_of
"""
LATE_DAYS_QUERY = """
    SELECT snapshot_date, last_observed_date, late_movies, movies
    FROM gold.rpt_late_observations ORDER BY snapshot_date
"""
SOURCES = (
    "TMDB API v3 via dbt: gold.dim_movie, gold.mart_genre_roi, gold.kpi_summary, "
    "gold.rpt_tmdb_dead_letters, gold.rpt_changes_of_the_day, gold.rpt_as_of, gold.rpt_late_observations"
)

ABOUT_COLUMNS = (Column("Item", 28), Column("Value", 90))

# KPI units (gold.kpi_summary.unit, compared lower-case) mapped to Excel number formats. The
# director and actor KPIs reuse the movie units: total revenue USD, median ROI ratio, mean vote
# score_0_10; an unknown unit falls back to DECIMAL_2 rather than failing the report.
_UNIT_FORMATS = {
    "usd": MONEY,
    "ratio": PERCENT,
    "score_0_10": "0.00",
    "tmdb_popularity": "0.00",
    "movies": INTEGER,
}


def excel_value(value: Any) -> Any:
    """``value`` as openpyxl can store it: tz-aware datetimes become naive UTC, lists become
    comma-separated text, control characters Excel forbids are dropped; other types unchanged
    (str, int, float, Decimal, bool, date, naive datetime, None) or ``str(value)``."""
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def is_formula_like(value: Any) -> bool:
    """True when ``value`` is text a spreadsheet would evaluate (starts with = + - @ tab CR)."""
    return isinstance(value, str) and value.startswith(_FORMULA_PREFIXES)


class StyledCells:
    """Builds write-only cells for one write-only worksheet (what ``Workbook(write_only=True).create_sheet``
    returns; openpyxl exports no public name for its type), one workbook named style per
    (format, font, fill).

    openpyxl registers a style by hashing its Font/number format on every assignment; a
    named style is registered once and assigning it by name copies its prepared style array,
    which keeps styled cells about as cheap as plain values at 500k rows (bench/README.md,
    "Excel workbook").
    """

    def __init__(self, sheet: Any):
        self.sheet = sheet
        self.workbook: Workbook = sheet.parent
        self._style_names: dict[tuple, str] = {}

    def _style_name(self, number_format: str | None, font: Font | None, fill: PatternFill | None) -> str:
        key = (number_format, id(font), id(fill))
        name = self._style_names.get(key)
        if name is None:
            # Named after its content, so sheets sharing a style share one named style.
            name = f"movies {number_format or 'General'} {hashlib.sha1(repr((font, fill)).encode()).hexdigest()[:8]}"
            if name not in self.workbook.named_styles:
                style = NamedStyle(name=name)
                if number_format:
                    style.number_format = number_format
                if font is not None:
                    style.font = font
                if fill is not None:
                    style.fill = fill
                self.workbook.add_named_style(style)
            self._style_names[key] = name
        return name

    def cell(self, value: Any, number_format: str | None = None, font: Font | None = None, fill: PatternFill | None = None) -> Any:
        """A cell for ``value``: the plain value when it needs no style, else a styled
        ``WriteOnlyCell``. Formula-like text (see :func:`is_formula_like`) is stored as a
        string cell with Excel's quote prefix, so it is shown as in the data and never
        evaluated, even after the user edits the cell."""
        value = excel_value(value)
        as_text = is_formula_like(value)
        if value is None and font is None and fill is None:
            return None
        if not (number_format or font or fill or as_text):
            return value
        cell = WriteOnlyCell(self.sheet)
        # The style goes first: binding a date to an unstyled cell would register a default date format.
        cell.style = self._style_name(number_format, font, fill)
        if as_text:
            cell.quotePrefix = True
        cell.value = value
        if as_text:
            cell.data_type = "s"
        return cell

    def row(self, values: Sequence[Any], columns: Sequence[Column], font: Font | None = None) -> list[Any]:
        """Cells for one data row, each with its column's number format and ``font``."""
        return [self.cell(value, column.number_format, font) for value, column in zip(values, columns, strict=True)]

    def header(self, columns: Sequence[Column]) -> list[Any]:
        """Header cells: bold white on dark blue."""
        return [self.cell(column.header, font=_HEADER_FONT, fill=_HEADER_FILL) for column in columns]


def _table_sheet(workbook: Workbook, title: str, columns: Sequence[Column]) -> tuple[Any, StyledCells]:
    sheet = workbook.create_sheet(title)
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    return sheet, StyledCells(sheet)


def _write_table(
    workbook: Workbook,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    row_font: Callable[[Sequence[Any]], Font | None] = lambda row: None,
    max_rows: int | None = None,
) -> int:
    """A sheet with a header, frozen top row, autofilter over all rows; returns data rows written.

    The autofilter range must be known before streaming, so ``max_rows`` (when given) sizes it;
    otherwise it covers the whole column height Excel allows.
    """
    sheet, cells = _table_sheet(workbook, title, columns)
    last_row = (max_rows + 1) if max_rows is not None else 1_048_576
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(last_row, 2)}"
    sheet.append(cells.header(columns))
    written = 0
    for row in rows:
        sheet.append(cells.row(row, columns, row_font(row)))
        written += 1
    return written


def _has_genre(genres: Any, genre: str) -> bool:
    if not genres:
        return False
    names = genres if isinstance(genres, (list, tuple)) else str(genres).split(",")
    return any(str(name).strip() == genre for name in names)


def _action_font(row: Sequence[Any]) -> Font | None:
    return _ACTION_FONT if _has_genre(row[3], "Action") else None


def _kpi_number_format(unit: Any) -> str:
    return _UNIT_FORMATS.get(str(unit or "").strip().lower(), DECIMAL_2)


def coverage_note(movies_with_credits: int, movies_total: int) -> str:
    """The line under a credit-based KPI's title: "Covers the 101 of 300 movies with known credits"."""
    return f"Covers the {movies_with_credits:,} of {movies_total:,} movies with known credits"


def _write_kpis(workbook: Workbook, rows: Iterable[Sequence[Any]]) -> int:
    """Sheet "KPIs": an italic :data:`KPI_CURRENT_VALUES_NOTE` line, then per KPI a bold title row, for credit-based KPIs an italic
    :func:`coverage_note` row, a header row and its ranked rows, then a blank row.

    ``rows``: (kpi, rank, subject_name, subject_type, metric, value, unit, movies_with_credits,
    movies_total), ordered by rank within each kpi; movies_with_credits is NULL for KPIs that
    cover every movie and the same on every row of a KPI that does not. KPIs are laid out in
    the order of ``rows`` (gold's reading order, kpi_order). Returns the ranked rows written.
    """
    sheet = workbook.create_sheet("KPIs")
    for index, column in enumerate(KPI_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    cells = StyledCells(sheet)
    sheet.append([cells.cell(KPI_CURRENT_VALUES_NOTE, font=_NOTE_FONT)])
    written = 0
    for kpi, grouped in itertools.groupby(rows, key=lambda row: row[0]):
        group = list(grouped)
        if written:
            sheet.append([])
        sheet.append([cells.cell(str(kpi).replace("_", " ").capitalize(), font=_TITLE_FONT)])
        movies_with_credits, movies_total = group[0][7:9]
        if movies_with_credits is not None:
            sheet.append([cells.cell(coverage_note(movies_with_credits, movies_total), font=_NOTE_FONT)])
        sheet.append(cells.header(KPI_COLUMNS))
        for _, rank, subject, subject_type, metric, value, unit, _, _ in group:
            sheet.append(
                [
                    cells.cell(rank, "0"),
                    cells.cell(subject),
                    cells.cell(subject_type),
                    cells.cell(metric),
                    cells.cell(value, _kpi_number_format(unit)),
                    cells.cell(unit),
                ]
            )
            written += 1
    return written


def observation_note(observed_date: date | None, observed_late: bool | None) -> str:
    """The About sheet's word on the reported day: "on time", "LATE: …" naming the day whose
    values it holds, or "unknown" (no fetch, or a day typed before the columns existed)."""
    if observed_late is None:
        return "unknown"
    if observed_late:
        return f"LATE: TMDB values of {observed_date}, fetched after the day (TMDB serves only current values)"
    return "on time"


def late_days_note(rows: Sequence[tuple[date, date, int, int]]) -> str:
    """Every late day as one line of text for the About sheet, "none" when there is none.

    ``rows``: (snapshot_date, last_observed_date, late_movies, movies) of
    ``gold.rpt_late_observations``, oldest first.
    """
    if not rows:
        return "none"
    return "; ".join(f"{day} (values of {observed}, {late:,} of {movies:,} movies)" for day, observed, late, movies in rows)


def _write_about(workbook: Workbook, items: Sequence[tuple[str, Any]]) -> None:
    sheet = workbook.create_sheet("About")
    for index, column in enumerate(ABOUT_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    cells = StyledCells(sheet)
    sheet.append(cells.header(ABOUT_COLUMNS))
    for key, value in items:
        number_format = DATETIME if isinstance(value, datetime) else None
        sheet.append([cells.cell(key, font=_KEY_FONT), cells.cell(value, number_format)])


def save_atomically(workbook: Workbook, path: Path) -> None:
    """Save ``workbook`` to a temp file beside ``path``, then ``os.replace`` it into place.

    A crash mid-write leaves the previous workbook (or none), never a truncated file.
    """
    with atomic_output(path) as temp_name:
        workbook.save(temp_name)


def write_report_workbook(
    path: Path,
    movies: Iterable[Sequence[Any]],
    genre_roi: Iterable[Sequence[Any]] = (),
    kpis: Iterable[Sequence[Any]] = (),
    dead_letters: Iterable[Sequence[Any]] = (),
    about: Sequence[tuple[str, Any]] = (),
    movie_count: int | None = None,
    changes: Iterable[Sequence[Any]] = (),
) -> dict[str, int]:
    """Write the stakeholder workbook to ``path`` atomically; returns data rows per sheet.

    Args:
        movies: (movie_id, title, vote_average 0-10, genres "A, B" sorted, release_date DATE,
            budget_usd, revenue_usd, roi ratio) sorted by movie_id; rows whose genres include
            Action are bold red. Consumed once, streamed.
        genre_roi: rows of ``gold.mart_genre_roi`` in :data:`GENRE_ROI_QUERY` column order.
        kpis: rows of ``gold.kpi_summary`` in :data:`KPI_QUERY` column order (kpi, rank,
            subject_name, subject_type, metric, value in unit, unit, movies_with_credits or None,
            movies_total) ordered by kpi_order (gold's reading order of the KPIs), then rank.
        dead_letters: rows of ``gold.rpt_tmdb_dead_letters`` in :data:`DEAD_LETTER_QUERY` column order.
        about: (item, value) pairs for "About"; the row count of each sheet is appended.
        changes: rows of ``gold.rpt_changes_of_the_day`` in :data:`CHANGES_QUERY` column order
            (sorted by movie).
        movie_count: number of movie rows, to size the Movies autofilter exactly.

    Raises:
        OSError: the folder cannot be written; any previous workbook at ``path`` is kept.
    """
    genre_roi_rows = list(genre_roi)
    dead_letter_rows = list(dead_letters)
    change_rows = list(changes)
    workbook = Workbook(write_only=True)
    counts = {
        "Movies": _write_table(workbook, "Movies", MOVIES_COLUMNS, movies, _action_font, movie_count),
        "Genre ROI": _write_table(workbook, "Genre ROI", GENRE_ROI_COLUMNS, genre_roi_rows, max_rows=len(genre_roi_rows)),
        "KPIs": _write_kpis(workbook, kpis),
        "Dead letters": _write_table(workbook, "Dead letters", DEAD_LETTER_COLUMNS, dead_letter_rows, max_rows=len(dead_letter_rows)),
        "Changes": _write_table(workbook, "Changes", CHANGES_COLUMNS, change_rows, max_rows=len(change_rows)),
    }
    _write_about(workbook, [*about, *((f"Rows: {sheet}", count) for sheet, count in counts.items())])
    save_atomically(workbook, path)
    return counts


def stream_rows(cursor: Any, batch_rows: int = FETCH_BATCH_ROWS) -> Iterator[tuple]:
    """Rows of an executed DuckDB query, fetched ``batch_rows`` at a time (flat memory)."""
    while batch := cursor.fetchmany(batch_rows):
        yield from batch


def count_movies_rows(path: Path) -> int:
    """Data rows of sheet "Movies" in the workbook at ``path``, read back with openpyxl (streamed).

    Raises:
        FileNotFoundError: no workbook at ``path``.
        KeyError: the workbook has no "Movies" sheet.
    """
    workbook = load_workbook(path, read_only=True)
    try:
        rows = workbook["Movies"].iter_rows(min_row=2, max_col=1, values_only=True)
        return sum(1 for (movie_id,) in rows if movie_id is not None)
    finally:
        workbook.close()


@asset(
    key_prefix=["reports"],
    group_name="reports",
    deps=[
        AssetKey(["gold", "dim_movie"]),
        AssetKey(["gold", "mart_genre_roi"]),
        AssetKey(["gold", "kpi_summary"]),
        AssetKey(["gold", "rpt_tmdb_dead_letters"]),
        AssetKey(["gold", "rpt_as_of"]),
        AssetKey(["gold", "rpt_late_observations"]),
        AssetKey(["gold", "rpt_changes_of_the_day"]),
    ],
    kinds={"excel", "python"},
    owners=["team:analytics"],
)
def movie_data_xlsx(context: AssetExecutionContext, duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``$MOVIES_REPORTS_DIR/movie_data.xlsx``, the stakeholder workbook (sheets in the module docstring).

    The reported partition is ``gold.rpt_as_of.partition_date`` (the newest TMDB day with a
    successful fetch or a dead letter), whatever partition the run carries. Metadata: path, row count per sheet, partition.

    Raises:
        duckdb.CatalogException: a gold table it reads is missing (dbt has not built it).
        OSError: the reports folder cannot be written; the previous workbook is kept.
    """
    path = paths.reports / WORKBOOK_NAME
    with duckdb.get_connection() as conn:
        (partition, fetched_at, fetched_by_run_id, movies_in_partition, tmdb_source, observed_date, observed_late) = conn.execute(
            AS_OF_QUERY
        ).fetchone()
        late_days = conn.execute(LATE_DAYS_QUERY).fetchall()
        movie_count = conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone()[0]
        genre_roi = conn.execute(GENRE_ROI_QUERY).fetchall()
        kpis = conn.execute(KPI_QUERY).fetchall()
        dead_letters = conn.execute(DEAD_LETTER_QUERY).fetchall()
        changes = conn.execute(CHANGES_QUERY).fetchall()
        about = [
            ("Report", WORKBOOK_NAME),
            ("Generated at (UTC)", datetime.now(UTC)),
            ("Dagster run id", context.run_id),
            ("Partition", partition),
            ("TMDB fetched at (UTC)", fetched_at),
            ("TMDB fetched by run id", fetched_by_run_id),
            ("Movies in partition", movies_in_partition),
            ("Partition observed", observation_note(observed_date, observed_late)),
            ("Late days (values fetched after the day)", late_days_note(late_days)),
            ("TMDB source", tmdb_source or "unknown"),
            ("Sources", SOURCES),
            ("Attribution", TMDB_ATTRIBUTION),
        ]
        counts = write_report_workbook(
            path,
            stream_rows(conn.execute(MOVIES_QUERY)),
            genre_roi,
            kpis,
            dead_letters,
            about,
            movie_count=movie_count,
            changes=changes,
        )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "dagster/row_count": counts["Movies"],
            "partition": partition,
            **{f"rows_{sheet.lower().replace(' ', '_')}": count for sheet, count in counts.items()},
        }
    )
