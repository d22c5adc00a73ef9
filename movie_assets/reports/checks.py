"""Asset checks of the report files: what a reader opens is complete and well-formed.

- ``movie_data_xlsx_matches_dim_movie`` on ``reports/movie_data_xlsx``: the workbook's
  Movies sheet, re-opened with openpyxl, has as many rows as ``gold.dim_movie``.
- ``png_written`` on each ``reports/charts/*_png``: the file exists, is a non-empty PNG and
  is 1200x800 px.

All are non-blocking (severity WARN): the files are already written when they run.
"""

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetsDefinition,
    MetadataValue,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from movie_assets.paths import PipelinePaths
from movie_assets.reports import charts, workbook


@asset_check(
    asset=workbook.movie_data_xlsx,
    description=(
        "Protects stakeholders from a truncated or stale workbook: movie_data.xlsx, re-opened with "
        "openpyxl, has exactly as many Movies rows as gold.dim_movie."
    ),
)
def movie_data_xlsx_matches_dim_movie(duckdb: DuckDBResource, paths: PipelinePaths) -> AssetCheckResult:
    """Counts the workbook's Movies rows (streamed, read-only) against ``count(*)`` of gold.dim_movie.

    Fails (WARN) when the workbook is missing or the counts differ; metadata carries both counts.
    """
    path = paths.reports / workbook.WORKBOOK_NAME
    with duckdb.get_connection() as conn:
        expected = conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone()[0]
    if not path.exists():
        return AssetCheckResult(
            passed=False, severity=AssetCheckSeverity.WARN, description=f"{path} does not exist", metadata={"expected_rows": expected}
        )
    found = workbook.count_movies_rows(path)
    return AssetCheckResult(
        passed=found == expected,
        severity=AssetCheckSeverity.WARN,
        metadata={"workbook_rows": found, "dim_movie_rows": expected, "path": MetadataValue.path(str(path))},
    )


def _png_check(chart: AssetsDefinition, file_name: str) -> AssetChecksDefinition:
    @asset_check(
        asset=chart,
        name="png_written",
        description=(
            f"Protects readers of charts/{file_name} from a missing, empty or corrupt image: the file "
            f"exists, is a non-empty PNG and is {charts.WIDTH_PX}x{charts.HEIGHT_PX} px."
        ),
    )
    def _check(paths: PipelinePaths) -> AssetCheckResult:
        path = paths.reports / charts.CHARTS_DIR / file_name
        metadata = {"path": MetadataValue.path(str(path))}
        if not path.exists() or path.stat().st_size == 0:
            return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN, metadata=metadata, description=f"{path} is missing or empty")
        try:
            width, height = charts.png_size(path)
        except ValueError as error:
            return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN, metadata=metadata, description=str(error))
        return AssetCheckResult(
            passed=(width, height) == (charts.WIDTH_PX, charts.HEIGHT_PX),
            severity=AssetCheckSeverity.WARN,
            metadata={**metadata, "width_px": width, "height_px": height, "bytes": path.stat().st_size},
        )

    return _check


chart_png_checks = [_png_check(chart, file_name) for chart, file_name in charts.CHART_FILES.items()]
