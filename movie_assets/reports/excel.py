"""The stakeholder Excel workbook (openpyxl), written atomically."""


import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from movie_assets.resources import PipelinePaths

WORKBOOK_NAME = "movie_data.xlsx"
MOVIES_COLUMNS = ("ID", "Title", "Vote Average", "Genres")
# Text starting with these is treated as a formula (or DDE payload) by Excel and LibreOffice.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def write_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    """Append ``values`` to ``sheet``, storing formula-like text as plain text.

    openpyxl stores a string starting with ``=`` as a formula; such strings (and those
    starting with ``+ - @``, tab or CR, which spreadsheet apps evaluate when a cell is
    edited) are written as string cells with Excel's quote prefix, so they are shown
    exactly as in the data and never evaluated.
    """
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_PREFIXES):
            cell.data_type = "s"
            cell.quotePrefix = True


def save_atomically(workbook: Workbook, path: Path) -> None:
    """Save ``workbook`` to a temp file beside ``path``, then ``os.replace`` it into place.

    A crash mid-write leaves the previous workbook (or none), never a truncated file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        workbook.save(temp_name)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_movies_workbook(rows: Sequence[Sequence[Any]], path: Path) -> int:
    """Write sheet "Movies" (ID, Title, Vote Average, Genres) to ``path``; returns rows written.

    Args:
        rows: tuples in column order, already sorted by ID.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Movies"
    sheet.append(MOVIES_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        write_row(sheet, row)
    sheet.freeze_panes = "A2"
    save_atomically(workbook, path)
    return len(rows)


@asset(
    key_prefix=["reports"],
    group_name="reports",
    deps=[AssetKey(["gold", "dim_movie"])],
    kinds={"excel", "python"},
    owners=["team:analytics"],
)
def movie_data_xlsx(context: AssetExecutionContext, duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``$MOVIES_REPORTS_DIR/movie_data.xlsx``: one row per movie of ``gold.dim_movie``, sorted by ID."""
    with duckdb.get_connection() as conn:
        rows = conn.execute(
            "SELECT movie_id, title, vote_average, genres FROM gold.dim_movie ORDER BY movie_id"
        ).fetchall()
    path = paths.reports / WORKBOOK_NAME
    written = write_movies_workbook(rows, path)
    return MaterializeResult(
        metadata={"path": MetadataValue.path(str(path)), "dagster/row_count": written}
    )
