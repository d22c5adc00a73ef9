"""Bronze provider assets: critic scores, audience ratings and box office, landed in the lake
as delivered (see :mod:`movie_assets.providers.deliveries`).

Each asset reads its file under ``$MOVIES_INPUT_DIR/providers`` with DuckDB's readers in
memory and writes ``bronze/<table>/delivery=<sha256>/data.parquet`` under ``MOVIES_LAKE_DIR``,
then moves ``bronze/<table>/current`` to it (what silver reads). No DuckDB file is opened, so
ingestion never waits for the warehouse lock. A refused delivery fails the run with
:class:`~movie_assets.providers.deliveries.DeliveryError` and ``current`` stays where it was.
"""

from dagster import AssetExecutionContext, MaterializeResult, asset

from movie_assets.paths import PipelinePaths
from movie_assets.providers.deliveries import (
    AUDIENCE_PULSE,
    BOX_OFFICE_DOMESTIC,
    BOX_OFFICE_FINANCIALS,
    BOX_OFFICE_INTERNATIONAL,
    CRITIC_AGG,
    Delivery,
    land_delivery,
)
from movie_assets.warehouse.lake import LakeResource
from movie_assets.warehouse.metadata import table_metadata


def _materialize(context: AssetExecutionContext, delivery: Delivery, lake: LakeResource, paths: PipelinePaths) -> MaterializeResult:
    """Land ``delivery`` and describe the current delivery: ``status`` (``loaded`` or
    ``unchanged``), ``file_sha256``, ``ignored_columns`` and the table metadata (row count,
    schema, preview) read back from the lake.

    Raises:
        DeliveryError: the file is refused; nothing is written.
    """
    result = land_delivery(lake.lake, delivery, paths.inputs / "providers")
    with lake.lake.connect_bronze() as conn:
        table_info = table_metadata(conn, delivery.table)
    if result.ignored_columns:
        context.log.warning(f"{delivery.relative_path}: columns not in the bronze layout, not loaded: {result.ignored_columns}")
    return MaterializeResult(
        metadata={
            "status": result.status,
            "file_sha256": result.sha256,
            "ignored_columns": ", ".join(result.ignored_columns) or "none",
            **table_info,
        }
    )


_ASSET_ARGS = dict(key_prefix=["bronze"], group_name="bronze", kinds={"parquet", "python"}, owners=["team:data-engineering"])


@asset(**_ASSET_ARGS)
def critic_agg(context: AssetExecutionContext, lake: LakeResource, paths: PipelinePaths) -> MaterializeResult:
    """Critic scores (provider 1, Wikidata) from ``providers/critic_agg.csv``, one row per CSV row.

    ``bronze/critic_agg/current/data.parquet``: Movie Title, Release Year, IMDb ID, Tomatometer, Critic
    Reviews, Fresh, Rotten, Average Critic Score, Metascore, Studio, Box Office (USD), all
    text as delivered, plus source_file, file_sha256, source_row_number, loaded_at.
    """
    return _materialize(context, CRITIC_AGG, lake, paths)


@asset(**_ASSET_ARGS)
def audience_pulse(context: AssetExecutionContext, lake: LakeResource, paths: PipelinePaths) -> MaterializeResult:
    """Audience ratings (provider 2, OMDb responses) from ``providers/audience_pulse.json``.

    ``bronze/audience_pulse/current/data.parquet``, one row per array element: title, year, imdb_id, rated,
    imdb_rating, imdb_votes, genre, language, country as OMDb strings ("7.8", "1,064,516",
    "N/A"), ratings as JSON (``[{source, value}]``), plus the audit columns.
    """
    return _materialize(context, AUDIENCE_PULSE, lake, paths)


@asset(**_ASSET_ARGS)
def box_office_domestic(context: AssetExecutionContext, lake: LakeResource, paths: PipelinePaths) -> MaterializeResult:
    """US gross (provider 3, vega-datasets) from ``providers/box_office/domestic.csv``.

    ``bronze/box_office_domestic/current/data.parquet``: Title, Release Date ("Jun 12 1998"), US Gross (USD),
    as text, plus the audit columns.
    """
    return _materialize(context, BOX_OFFICE_DOMESTIC, lake, paths)


@asset(**_ASSET_ARGS)
def box_office_international(context: AssetExecutionContext, lake: LakeResource, paths: PipelinePaths) -> MaterializeResult:
    """Worldwide gross (provider 3) from ``providers/box_office/international.csv``.

    ``bronze/box_office_international/current/data.parquet``: Title, Release Date, Worldwide Gross (USD, US
    included) and International Gross (NULL unless a delivery carries it), as text, plus the
    audit columns.
    """
    return _materialize(context, BOX_OFFICE_INTERNATIONAL, lake, paths)


@asset(**_ASSET_ARGS)
def box_office_financials(context: AssetExecutionContext, lake: LakeResource, paths: PipelinePaths) -> MaterializeResult:
    """Budget, DVD sales and film facts (provider 3) from ``providers/box_office/financials.csv``.

    ``bronze/box_office_financials/current/data.parquet``: Title, Release Date, Production Budget, US DVD
    Sales (USD), Distributor, MPAA Rating, Running Time min, Major Genre, Creative Type,
    Source, Director, as text, plus the audit columns.
    """
    return _materialize(context, BOX_OFFICE_FINANCIALS, lake, paths)
