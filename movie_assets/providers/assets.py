"""Bronze provider deliveries: critic scores, audience ratings and box office, as they arrived.

Source: files under ``$MOVIES_INPUT_DIR/providers`` (see ``../shared/data/README.md``):

==================================  ==================================  ======
file                                table                               format
==================================  ==================================  ======
``critic_agg.csv``                  ``bronze.critic_agg``               CSV
``audience_pulse.json``             ``bronze.audience_pulse``           JSON array of objects
``box_office/domestic.csv``         ``bronze.box_office_domestic``      CSV
``box_office/international.csv``    ``bronze.box_office_international`` CSV
``box_office/financials.csv``       ``bronze.box_office_financials``    CSV
==================================  ==================================  ======

Every source column is stored as VARCHAR under its name in the file (nested JSON values as
JSON), plus ``source_file`` (path under the input folder), ``file_sha256``,
``source_row_number`` (1-based data row / array element) and ``loaded_at`` (UTC).

A load validates the whole file before touching the warehouse, then replaces the table in
one transaction. Loading a file whose sha256 is already the table's content is skipped, so
the table (including ``loaded_at``) does not change.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from movie_assets.warehouse.metadata import table_metadata
from movie_assets.paths import PipelinePaths
from movie_assets.warehouse.tables import ensure_table, replace_rows

AUDIT_COLUMNS = ("source_file", "file_sha256", "source_row_number", "loaded_at")


class DeliveryError(ValueError):
    """A provider file that cannot be loaded; the message names the file and what is wrong."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"provider delivery {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """One provider file and the bronze table it lands in.

    Attributes:
        table: ``bronze.<name>``.
        provider: ``critic``, ``audience`` or ``box_office`` (the sensor's unit of change).
        relative_path: path under ``$MOVIES_INPUT_DIR/providers``.
        file_format: ``csv`` (UTF-8, header row) or ``json`` (one array of objects).
        columns: source columns in table order, all VARCHAR unless in ``json_columns``.
        required: columns the file must have; the others become NULL when absent.
        one_of: groups of columns of which the file must have at least one.
        json_columns: columns kept as JSON (nested values).
    """

    table: str
    provider: str
    relative_path: str
    file_format: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    one_of: tuple[tuple[str, ...], ...] = ()
    json_columns: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1]

    @property
    def asset_key(self) -> AssetKey:
        return AssetKey(["bronze", self.name])

    @property
    def ddl(self) -> str:
        source = [f'"{c}" {"JSON" if c in self.json_columns else "VARCHAR"}' for c in self.columns]
        audit = [
            "source_file VARCHAR NOT NULL",
            "file_sha256 VARCHAR NOT NULL",
            "source_row_number BIGINT NOT NULL",
            "loaded_at TIMESTAMPTZ NOT NULL",
        ]
        return ", ".join(source + audit)


CRITIC_AGG = Delivery(
    table="bronze.critic_agg",
    provider="critic",
    relative_path="critic_agg.csv",
    file_format="csv",
    columns=(
        "Movie Title", "Release Year", "IMDb ID", "Tomatometer", "Critic Reviews", "Fresh", "Rotten",
        "Average Critic Score", "Metascore", "Studio", "Box Office (USD)",
    ),
    required=("Movie Title", "Release Year", "IMDb ID", "Tomatometer", "Average Critic Score", "Metascore"),
)
AUDIENCE_PULSE = Delivery(
    table="bronze.audience_pulse",
    provider="audience",
    relative_path="audience_pulse.json",
    file_format="json",
    columns=(
        "title", "year", "imdb_id", "rated", "imdb_rating", "imdb_votes", "ratings", "genre", "language", "country",
    ),
    required=("title", "year", "imdb_id", "imdb_rating", "imdb_votes", "ratings"),
    json_columns=("ratings",),
)
BOX_OFFICE_DOMESTIC = Delivery(
    table="bronze.box_office_domestic",
    provider="box_office",
    relative_path="box_office/domestic.csv",
    file_format="csv",
    columns=("Title", "Release Date", "US Gross"),
    required=("Title", "Release Date", "US Gross"),
)
# The provider sends worldwide gross (US included); a delivery may instead carry
# international gross directly, and silver says which one it used.
BOX_OFFICE_INTERNATIONAL = Delivery(
    table="bronze.box_office_international",
    provider="box_office",
    relative_path="box_office/international.csv",
    file_format="csv",
    columns=("Title", "Release Date", "Worldwide Gross", "International Gross"),
    required=("Title", "Release Date"),
    one_of=(("Worldwide Gross", "International Gross"),),
)
BOX_OFFICE_FINANCIALS = Delivery(
    table="bronze.box_office_financials",
    provider="box_office",
    relative_path="box_office/financials.csv",
    file_format="csv",
    columns=(
        "Title", "Release Date", "Production Budget", "US DVD Sales", "Distributor", "MPAA Rating",
        "Running Time min", "Major Genre", "Creative Type", "Source", "Director",
    ),
    required=("Title", "Release Date", "Production Budget"),
)

DELIVERIES = (CRITIC_AGG, AUDIENCE_PULSE, BOX_OFFICE_DOMESTIC, BOX_OFFICE_INTERNATIONAL, BOX_OFFICE_FINANCIALS)


@dataclass(frozen=True)
class ParsedDelivery:
    """A validated file: ``rows`` (one dict per data row, source column -> text or None),
    the columns found in the file, and the file's sha256 (hex)."""

    rows: list[dict[str, str | None]]
    found_columns: list[str]
    sha256: str


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`load_delivery`: ``status`` is ``loaded`` or ``unchanged`` (same sha256
    already loaded, nothing written); ``rows`` is the table's row count afterwards."""

    status: str
    rows: int
    sha256: str
    ignored_columns: list[str]


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise DeliveryError(path, "the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DeliveryError(
            path, f"not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start} (line {line})"
        ) from None
    if not text.strip():
        raise DeliveryError(path, "the file is empty")
    return text


def _check_columns(delivery: Delivery, path: Path, found: list[str]) -> None:
    missing = [c for c in delivery.required if c not in found]
    missing += [" or ".join(group) for group in delivery.one_of if not any(c in found for c in group)]
    if missing:
        raise DeliveryError(
            path,
            f"missing required columns {missing}; expected {list(delivery.columns)} "
            f"(required {list(delivery.required)}), found {found}",
        )


def _parse_csv(delivery: Delivery, path: Path, text: str) -> tuple[list[dict], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        found = [name.strip() for name in header]
        duplicated = sorted({name for name in found if found.count(name) > 1})
        if duplicated:
            raise DeliveryError(path, f"duplicated column names {duplicated} in the header")
        _check_columns(delivery, path, found)
        rows = []
        for record in reader:
            if not record:
                continue  # blank line, e.g. a trailing newline pair
            if len(record) != len(found):
                raise DeliveryError(
                    path,
                    f"row {len(rows) + 1} (line {reader.line_num}) has {len(record)} fields, the header has "
                    f"{len(found)}: truncated or malformed file",
                )
            rows.append({name: (value if value != "" else None) for name, value in zip(found, record)})
    except csv.Error as error:
        raise DeliveryError(path, f"malformed CSV at line {reader.line_num}: {error} (truncated file?)") from None
    if not rows:
        raise DeliveryError(path, "the file has a header but no data rows")
    return rows, found


def _json_text(value, as_json: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and not as_json:
        return value
    return json.dumps(value, ensure_ascii=False)


def _parse_json(delivery: Delivery, path: Path, text: str) -> tuple[list[dict], list[str]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DeliveryError(
            path, f"invalid JSON (truncated?): {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(document, list):
        raise DeliveryError(path, f"the JSON document is a {type(document).__name__}, expected an array of objects")
    if not document:
        raise DeliveryError(path, "the JSON array is empty")
    found: list[str] = []
    for index, element in enumerate(document, start=1):
        if not isinstance(element, dict):
            raise DeliveryError(
                path, f"array element {index} is a {type(element).__name__}, expected an object"
            )
        found.extend(key for key in element if key not in found)
    _check_columns(delivery, path, found)
    rows = [
        {key: _json_text(element.get(key), key in delivery.json_columns) for key in found}
        for element in document
    ]
    return rows, found


def parse_delivery(delivery: Delivery, path: Path) -> ParsedDelivery:
    """Read and validate one provider file completely, without touching the warehouse.

    Returns every data row as ``{source column: text or None}`` (empty CSV cells become None;
    non-string JSON values become their JSON text).

    Raises:
        DeliveryError: the file is missing, empty, not UTF-8, malformed or truncated CSV or
            JSON, a JSON document that is not an array of objects, or lacks required columns
            (the message lists expected and found columns).
    """
    if not path.is_file():
        raise DeliveryError(path, f"file not found (the {delivery.provider} provider's delivery for {delivery.table})")
    data = path.read_bytes()
    text = _decode(path, data)
    parse = _parse_json if delivery.file_format == "json" else _parse_csv
    rows, found = parse(delivery, path, text)
    return ParsedDelivery(rows=rows, found_columns=found, sha256=hashlib.sha256(data).hexdigest())


def delivery_rows(delivery: Delivery, parsed: ParsedDelivery, source_file: str, loaded_at: datetime) -> pa.Table:
    """Arrow rows for ``delivery.table``: its source columns (text; JSON text for JSON
    columns; NULL when the file lacks an optional column) plus the audit columns."""
    count = len(parsed.rows)
    columns = {name: pa.array([row.get(name) for row in parsed.rows], pa.string()) for name in delivery.columns}
    columns["source_file"] = pa.array([source_file] * count, pa.string())
    columns["file_sha256"] = pa.array([parsed.sha256] * count, pa.string())
    columns["source_row_number"] = pa.array(range(1, count + 1), pa.int64())
    columns["loaded_at"] = pa.array([loaded_at] * count, pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


def load_delivery(conn: duckdb.DuckDBPyConnection, delivery: Delivery, providers_dir: Path) -> LoadResult:
    """Validate ``providers_dir / delivery.relative_path`` and replace ``delivery.table`` with it.

    The table is replaced in one transaction; when it already holds exactly this file
    (same sha256) nothing is written and the status is ``unchanged``.

    Raises:
        DeliveryError: see :func:`parse_delivery`; the table keeps its previous load.
    """
    path = providers_dir / delivery.relative_path
    parsed = parse_delivery(delivery, path)
    ignored = [c for c in parsed.found_columns if c not in delivery.columns]
    ensure_table(conn, delivery.table, delivery.ddl)
    loaded = conn.execute(f"SELECT DISTINCT file_sha256 FROM {delivery.table}").fetchall()
    if loaded == [(parsed.sha256,)]:
        rows = conn.execute(f"SELECT count(*) FROM {delivery.table}").fetchall()[0][0]
        return LoadResult("unchanged", rows, parsed.sha256, ignored)
    source_file = f"providers/{delivery.relative_path}"
    table = delivery_rows(delivery, parsed, source_file, datetime.now(timezone.utc))
    rows = replace_rows(conn, delivery.table, table)
    return LoadResult("loaded", rows, parsed.sha256, ignored)


def _materialize(context: AssetExecutionContext, delivery: Delivery, duckdb: DuckDBResource, paths: PipelinePaths):
    with duckdb.get_connection() as conn:
        result = load_delivery(conn, delivery, paths.inputs / "providers")
        table_info = table_metadata(conn, delivery.table)
    if result.ignored_columns:
        context.log.warning(
            f"{delivery.relative_path}: columns not in the bronze layout, not loaded: {result.ignored_columns}"
        )
    return MaterializeResult(
        metadata={
            "status": result.status,
            "file_sha256": result.sha256,
            "ignored_columns": ", ".join(result.ignored_columns) or "none",
            **table_info,
        }
    )


_ASSET_ARGS = dict(
    key_prefix=["bronze"], group_name="bronze", kinds={"duckdb", "python"}, owners=["team:data-engineering"]
)


@asset(**_ASSET_ARGS)
def critic_agg(context: AssetExecutionContext, duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """Critic scores (provider 1, Wikidata) from ``providers/critic_agg.csv``, one row per CSV row.

    Table ``bronze.critic_agg``: Movie Title, Release Year, IMDb ID, Tomatometer, Critic
    Reviews, Fresh, Rotten, Average Critic Score, Metascore, Studio, Box Office (USD), all
    text as delivered, plus source_file, file_sha256, source_row_number, loaded_at.
    """
    return _materialize(context, CRITIC_AGG, duckdb, paths)


@asset(**_ASSET_ARGS)
def audience_pulse(context: AssetExecutionContext, duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """Audience ratings (provider 2, OMDb responses) from ``providers/audience_pulse.json``.

    Table ``bronze.audience_pulse``, one row per array element: title, year, imdb_id, rated,
    imdb_rating, imdb_votes, genre, language, country as OMDb strings ("7.8", "1,064,516",
    "N/A"), ratings as JSON (``[{source, value}]``), plus the audit columns.
    """
    return _materialize(context, AUDIENCE_PULSE, duckdb, paths)


@asset(**_ASSET_ARGS)
def box_office_domestic(
    context: AssetExecutionContext, duckdb: DuckDBResource, paths: PipelinePaths
) -> MaterializeResult:
    """US gross (provider 3, vega-datasets) from ``providers/box_office/domestic.csv``.

    Table ``bronze.box_office_domestic``: Title, Release Date ("Jun 12 1998"), US Gross (USD),
    as text, plus the audit columns.
    """
    return _materialize(context, BOX_OFFICE_DOMESTIC, duckdb, paths)


@asset(**_ASSET_ARGS)
def box_office_international(
    context: AssetExecutionContext, duckdb: DuckDBResource, paths: PipelinePaths
) -> MaterializeResult:
    """Worldwide gross (provider 3) from ``providers/box_office/international.csv``.

    Table ``bronze.box_office_international``: Title, Release Date, Worldwide Gross (USD, US
    included) and International Gross (NULL unless a delivery carries it), as text, plus the
    audit columns.
    """
    return _materialize(context, BOX_OFFICE_INTERNATIONAL, duckdb, paths)


@asset(**_ASSET_ARGS)
def box_office_financials(
    context: AssetExecutionContext, duckdb: DuckDBResource, paths: PipelinePaths
) -> MaterializeResult:
    """Budget, DVD sales and film facts (provider 3) from ``providers/box_office/financials.csv``.

    Table ``bronze.box_office_financials``: Title, Release Date, Production Budget, US DVD
    Sales (USD), Distributor, MPAA Rating, Running Time min, Major Genre, Creative Type,
    Source, Director, as text, plus the audit columns.
    """
    return _materialize(context, BOX_OFFICE_FINANCIALS, duckdb, paths)
