"""Provider deliveries: what each file is, how it is read (DuckDB's own CSV and JSON readers),
and how it lands in the lake.

Source: files under ``$MOVIES_INPUT_DIR/providers`` (see ``../shared/data/README.md``):

==================================  ==================================  ======
file                                bronze table                        format
==================================  ==================================  ======
``critic_agg.csv``                  ``bronze/critic_agg``               CSV
``audience_pulse.json``             ``bronze/audience_pulse``           JSON array of objects
``box_office/domestic.csv``         ``bronze/box_office_domestic``      CSV
``box_office/international.csv``    ``bronze/box_office_international`` CSV
``box_office/financials.csv``       ``bronze/box_office_financials``    CSV
==================================  ==================================  ======

Every source column is kept as text (VARCHAR) under its name in the file (nested JSON values
as JSON text), plus ``source_file`` (path under the input folder), ``file_sha256``,
``source_row_number`` (1-based data row / array element) and ``loaded_at`` (UTC).

A delivery is read and validated whole before anything is written (its columns, and its
values against the provider contract of :mod:`movie_assets.providers.contract`); it then lands as
``bronze/<table>/delivery=<sha256>/data.parquet`` and the table's ``current`` link moves to
it (:meth:`movie_assets.warehouse.lake.Lake.write_delivery`). A file whose sha256 is already
current is not landed again, so nothing (``loaded_at`` included) changes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from dagster import AssetKey

from movie_assets.providers.contract import ProviderContract, column_failures, load_provider_contract
from movie_assets.warehouse.lake import Lake


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
        columns: source columns in table order, all text (``json_columns`` as JSON text).
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
    def schema(self) -> pa.Schema:
        """The bronze table, declared once: :attr:`columns` as text, then :data:`AUDIT_FIELDS`.
        :func:`delivery_rows` writes it; dbt's source ``bronze.<name>`` is checked against it
        (tests/unit/test_bronze_schemas.py)."""
        return pa.schema([pa.field(name, pa.string()) for name in self.columns] + list(AUDIT_FIELDS))


#: The audit columns of every provider table: the file (path under the input folder), its
#: sha256 (hex), the 1-based data row or array element, and when it was landed (UTC).
AUDIT_FIELDS = (
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("file_sha256", pa.string(), nullable=False),
    pa.field("source_row_number", pa.int64(), nullable=False),
    pa.field("loaded_at", pa.timestamp("us", tz="UTC"), nullable=False),
)


CRITIC_AGG = Delivery(
    table="bronze.critic_agg",
    provider="critic",
    relative_path="critic_agg.csv",
    file_format="csv",
    columns=(
        "Movie Title",
        "Release Year",
        "IMDb ID",
        "Tomatometer",
        "Critic Reviews",
        "Fresh",
        "Rotten",
        "Average Critic Score",
        "Metascore",
        "Studio",
        "Box Office (USD)",
    ),
    required=("Movie Title", "Release Year", "IMDb ID", "Tomatometer", "Average Critic Score", "Metascore"),
)
AUDIENCE_PULSE = Delivery(
    table="bronze.audience_pulse",
    provider="audience",
    relative_path="audience_pulse.json",
    file_format="json",
    columns=(
        "title",
        "year",
        "imdb_id",
        "rated",
        "imdb_rating",
        "imdb_votes",
        "ratings",
        "genre",
        "language",
        "country",
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
        "Title",
        "Release Date",
        "Production Budget",
        "US DVD Sales",
        "Distributor",
        "MPAA Rating",
        "Running Time min",
        "Major Genre",
        "Creative Type",
        "Source",
        "Director",
    ),
    required=("Title", "Release Date", "Production Budget"),
)

DELIVERIES = (CRITIC_AGG, AUDIENCE_PULSE, BOX_OFFICE_DOMESTIC, BOX_OFFICE_INTERNATIONAL, BOX_OFFICE_FINANCIALS)


@dataclass(frozen=True)
class ParsedDelivery:
    """A validated file: ``rows`` (Arrow, one VARCHAR column per source column found, in file
    order), the columns found in the file, and the file's sha256 (hex)."""

    rows: pa.Table
    found_columns: list[str]
    sha256: str


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`land_delivery`: ``status`` is ``loaded`` or ``unchanged`` (same sha256
    already current, nothing written); ``rows`` is the current delivery's row count."""

    status: str
    rows: int
    sha256: str
    ignored_columns: list[str]


def _decode(path: Path, data: bytes) -> str:
    """The file's text (UTF-8, a byte-order mark dropped).

    Kept in Python because DuckDB's readers report invalid UTF-8 without the offending byte,
    and an analyst fixing a delivery needs to find it; an empty file gets its own message
    rather than DuckDB's sniffing error.

    Raises:
        DeliveryError: the file is empty (or only whitespace), or not UTF-8 (the message gives
            the first bad byte, its offset and its line).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DeliveryError(path, f"not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start} (line {line})") from None
    if not text.strip():
        raise DeliveryError(path, "the file is empty")
    return text


def _check_columns(delivery: Delivery, path: Path, found: list[str]) -> None:
    missing = [c for c in delivery.required if c not in found]
    missing += [" or ".join(group) for group in delivery.one_of if not any(c in found for c in group)]
    if missing:
        raise DeliveryError(
            path,
            f"missing required columns {missing}; expected {list(delivery.columns)} (required {list(delivery.required)}), found {found}",
        )


def _reader_message(error: Exception, path: Path) -> str:
    """DuckDB's first error line without its error class and the file name (the delivery
    error names the file already)."""
    line = str(error).strip().splitlines()[0]
    kind, _, rest = line.partition(" Error: ")
    return (rest or kind).replace(f' in file "{path.as_posix()}"', "").replace(f' "{path.as_posix()}"', "")


# Strict RFC 4180 dialect, given rather than sniffed: DuckDB's sniffer fails on a bad quote
# anywhere in its sample with "Error when sniffing file" and no line number.
_CSV_DIALECT = dict(sep=",", quotechar='"', escapechar='"', strict_mode=True, all_varchar=True)


def _csv_header(path: Path, header_line: str) -> list[str]:
    """The column names of ``header_line`` (the file's first line), parsed by DuckDB on its
    own so a malformed data row cannot hide them; names are stripped, an empty name is ``""``.

    Raises:
        DeliveryError: the header is not valid CSV, is blank, or repeats a name.
    """
    with duckdb.connect() as conn:
        try:
            rows = conn.read_csv(io.StringIO(header_line + "\n"), header=False, **_CSV_DIALECT).fetchall()
        except duckdb.Error:
            raise DeliveryError(path, "line 1: the header row is not valid CSV (unterminated quote?)") from None
    if not rows:
        raise DeliveryError(path, "line 1: the header row is blank")
    found = [(name or "").strip() for name in rows[0]]
    duplicated = sorted({name for name in found if found.count(name) > 1})
    if duplicated:
        raise DeliveryError(path, f"duplicated column names {duplicated} in the header")
    return found


def _read_csv(delivery: Delivery, path: Path, conn: duckdb.DuckDBPyConnection, header_line: str) -> tuple[pa.Table, list[str]]:
    """Every data row of the CSV at ``path`` (one text column per header name, file order)
    and the header names.

    Raises:
        DeliveryError: see :func:`_csv_header`; required columns missing; a row rejected by
            DuckDB (the message names the first rejected line, its fault and how many lines
            were rejected); no data rows.
    """
    found = _csv_header(path, header_line)
    _check_columns(delivery, path, found)
    # Positional names, renamed afterwards: a header name may be empty or need quoting.
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(found))) + "}"
    # No sniffing (dialect and columns are given); rows that do not fit are collected in
    # reject_errors instead of being padded or guessed. The parallel reader is kept on purpose:
    # with parallel = false, DuckDB 2.0 drops a row whose quote runs to the end of the file
    # without recording a reject. Rows still come back in file order (preserve_insertion_order).
    source = (
        f"read_csv({_sql_text(path.as_posix())}, header = true, auto_detect = false, columns = {columns}, "
        "all_varchar = true, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        "null_padding = false, store_rejects = true, encoding = 'utf-8')"
    )
    try:
        conn.execute("SET preserve_insertion_order = true")
        rows = conn.sql(f"SELECT * FROM {source}").to_arrow_table().rename_columns(found)
        rejected = next(
            iter(
                conn.execute(
                    "SELECT line, column_name, error_type, error_message, count(DISTINCT line) OVER () "
                    "FROM reject_errors ORDER BY line, column_idx LIMIT 1"
                ).fetchall()
            ),
            None,
        )
    except duckdb.Error as error:
        raise DeliveryError(path, f"malformed CSV: {_reader_message(error, path)}") from None
    if rejected:
        line, column, kind, message, lines = rejected
        # column_name is the positional c<i>; a row with too many columns names none.
        where = f"{kind.lower()} at column {found[int(column[1:])]!r}" if column else kind.lower()
        more = f"; {lines} lines rejected in all" if lines > 1 else ""
        raise DeliveryError(path, f"line {line} ({where}): {message}{more}: truncated or malformed file")
    if rows.num_rows == 0:
        raise DeliveryError(path, "the file has a header but no data rows")
    return rows, found


# DuckDB's json_type names, as a JSON document would name them.
_JSON_KINDS = {
    "NULL": "null",
    "VARCHAR": "a string",
    "ARRAY": "an array",
    "BOOLEAN": "a boolean",
    "BIGINT": "a number",
    "UBIGINT": "a number",
    "DOUBLE": "a number",
}


def _read_json(delivery: Delivery, path: Path, conn: duckdb.DuckDBPyConnection) -> tuple[pa.Table, list[str]]:
    source = f"read_json({_sql_text(path.as_posix())}, format = 'array', records = false, columns = {{'json': 'JSON'}})"
    try:
        conn.execute(f"CREATE TEMP TABLE elements AS SELECT row_number() OVER () AS element, json FROM {source}")
    except duckdb.Error as error:
        message = _reader_message(error, path)
        if "Expected top-level JSON array" in message:
            raise DeliveryError(path, "the JSON document is not an array; expected an array of objects") from None
        raise DeliveryError(path, f"invalid JSON (truncated?): {message}") from None
    if conn.execute("SELECT count(*) FROM elements").fetchall() == [(0,)]:
        raise DeliveryError(path, "the JSON array is empty")
    # A JSON null element arrives as SQL NULL, whose json_type is NULL too.
    stray = next(
        iter(
            conn.execute(
                "SELECT element, coalesce(json_type(json), 'NULL') AS kind FROM elements WHERE kind <> 'OBJECT' ORDER BY element LIMIT 1"
            ).fetchall()
        ),
        None,
    )
    if stray:
        kind = _JSON_KINDS.get(stray[1], stray[1].lower())
        raise DeliveryError(path, f"array element {stray[0]} is {kind}, expected an object")
    found = [
        row[0]
        for row in conn.execute(
            "SELECT key FROM (SELECT element, unnest(json_keys(json)) AS key, "
            "generate_subscripts(json_keys(json), 1) AS position FROM elements) "
            "GROUP BY key ORDER BY min(element * 1000000 + position)"
        ).fetchall()
    ]
    _check_columns(delivery, path, found)
    # ->> gives strings as they are and other scalars as their JSON text; JSON columns keep JSON.
    projections = ", ".join(f"json {'->' if key in delivery.json_columns else '->>'} {_sql_text(key)} AS {_quoted(key)}" for key in found)
    rows = conn.sql(f"SELECT {projections} FROM elements ORDER BY element").to_arrow_table()
    return rows.cast(pa.schema([pa.field(name, pa.string()) for name in rows.column_names])), found


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parse_delivery(delivery: Delivery, path: Path) -> ParsedDelivery:
    """Read and validate one provider file completely with DuckDB's readers, in memory.

    Returns every data row, its source columns as text (empty CSV cells and JSON nulls as
    NULL; non-string JSON scalars as their JSON text; JSON columns as JSON text).

    Raises:
        DeliveryError: the file is missing, empty, not UTF-8, malformed or truncated CSV or
            JSON (the CSV message names the line), a JSON document that is not an array of
            objects, a duplicated header, or lacks required columns (the message lists
            expected and found columns).
    """
    if not path.is_file():
        raise DeliveryError(path, f"file not found (the {delivery.provider} provider's delivery for {delivery.table})")
    data = path.read_bytes()
    text = _decode(path, data)
    with duckdb.connect() as conn:
        if delivery.file_format == "json":
            rows, found = _read_json(delivery, path, conn)
        else:
            rows, found = _read_csv(delivery, path, conn, text.split("\n", 1)[0].rstrip("\r"))
    return ParsedDelivery(rows=rows, found_columns=found, sha256=hashlib.sha256(data).hexdigest())


def delivery_rows(delivery: Delivery, parsed: ParsedDelivery, source_file: str, loaded_at: datetime) -> pa.Table:
    """Arrow rows of ``delivery.schema``: its source columns (text; NULL when the file lacks an
    optional column) plus the audit columns."""
    count = parsed.rows.num_rows
    columns = [parsed.rows.column(name) if name in parsed.rows.column_names else pa.nulls(count, pa.string()) for name in delivery.columns]
    columns += [
        pa.array([source_file] * count, pa.string()),
        pa.array([parsed.sha256] * count, pa.string()),
        pa.array(range(1, count + 1), pa.int64()),
        pa.array([loaded_at] * count, pa.timestamp("us", tz="UTC")),
    ]
    return pa.Table.from_arrays(columns, schema=delivery.schema)


def check_values(delivery: Delivery, parsed: ParsedDelivery, path: Path, contract: ProviderContract, delivered_on: date) -> None:
    """Refuse ``parsed`` when a declared column fails the provider contract
    (:mod:`movie_assets.providers.contract`: type and range from dbt var ``provider_columns``,
    share limit ``provider_max_flagged_share``).

    Raises:
        DeliveryError: names each failing column, its failing share of the non-blank values,
            the limit, what a value must be, and the first failing values with their CSV line
            (header = line 1) or JSON array element, e.g. ``column 'Average Critic Score':
            17001 of 17001 non-blank values (100.0 %) are not a decimal in [0, 10] (limit
            5.0 %), e.g. line 2 "72", line 3 "85", line 4 "90"``.
    """
    failures = column_failures(delivery.name, parsed.rows, contract, delivered_on)
    if not failures:
        return

    def where(row: int) -> str:
        return f"line {row + 1}" if delivery.file_format == "csv" else f"array element {row}"

    raise DeliveryError(
        path,
        "; ".join(
            f"column {failure.rule.column!r}: {failure.failed} of {failure.non_blank} non-blank values "
            f"({failure.share * 100:.1f} %) are not {failure.rule.describe(delivered_on)} "
            f"(limit {contract.max_failed_share * 100:.1f} %), e.g. " + ", ".join(f"{where(row)} {value!r}" for row, value in failure.examples)
            for failure in failures
        ),
    )


def land_delivery(lake: Lake, delivery: Delivery, providers_dir: Path, contract: ProviderContract | None = None) -> LoadResult:
    """Validate ``providers_dir / delivery.relative_path`` and make it the table's current delivery.

    ``contract`` defaults to the one declared in the dbt project (:func:`load_provider_contract`).

    Raises:
        DeliveryError: see :func:`parse_delivery` and :func:`check_values`; the current
            delivery stays as it was.
    """
    path = providers_dir / delivery.relative_path
    parsed = parse_delivery(delivery, path)
    now = datetime.now(UTC)
    check_values(delivery, parsed, path, contract or load_provider_contract(), now.date())
    ignored = [c for c in parsed.found_columns if c not in delivery.columns]
    if lake.current_delivery(delivery.name) == parsed.sha256:
        return LoadResult("unchanged", parsed.rows.num_rows, parsed.sha256, ignored)
    rows = delivery_rows(delivery, parsed, f"providers/{delivery.relative_path}", now)
    lake.write_delivery(delivery.name, parsed.sha256, rows)
    return LoadResult("loaded", rows.num_rows, parsed.sha256, ignored)
