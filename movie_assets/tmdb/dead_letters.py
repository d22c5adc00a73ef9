"""The TMDB dead-letter queue: ``bronze.tmdb_dead_letter`` and its CSV export.

A dead letter is an input that yielded no movie row: a rejected row of the analyst's ID
list, a discover or changes page that could not be read, or a movie whose details could
not be fetched. It lands in the lake beside ``bronze.tmdb_movies``, one Parquet file per
daily partition, and is exported whole to ``$MOVIES_REPORTS_DIR/dead_letter_queue.csv``
after every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv

from movie_assets.atomic_write import atomic_output
from movie_assets.tmdb.client import FetchResult
from movie_assets.tmdb.id_list import RejectedId

DEAD_LETTER_TABLE = "bronze.tmdb_dead_letter"
#: ``bronze.tmdb_dead_letter``, declared once: the rows :func:`dead_letter_rows` writes, the
#: empty table of a first run and dbt's source ``bronze.tmdb_dead_letter`` (checked by
#: tests/unit/test_bronze_schemas.py) all follow it. Fields as in :class:`DeadLetter`.
DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("raw_value", pa.string()),
        pa.field("movie_id", pa.int64()),
        pa.field("row_number", pa.int32()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("http_status", pa.int32()),
        pa.field("attempts", pa.int32(), nullable=False),
        pa.field("last_error", pa.string()),
        pa.field("partition_date", pa.date32(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
DEAD_LETTER_CSV = "dead_letter_queue.csv"


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter (a row of ``bronze.tmdb_dead_letter`` before partition and run are known).

    Attributes:
        source: ``ids-file``, ``discover``, ``changes`` or ``fetch``.
        raw_value: the input as given: the CSV cell, the page request path, or the movie id.
        movie_id: the TMDB id when known, else None.
        row_number: the physical line in the ID list (header = 1) for ``ids-file``, else None.
        reason: ``blank``, ``non-numeric``, ``non-positive``, ``duplicate`` (ids-file), or a
            fetch reason (see :class:`movie_assets.tmdb.client.FetchResult`).
        http_status: the last HTTP status, None when no response arrived or none was made.
        attempts: HTTP requests made (0 for ids-file rows).
        last_error: the last error text, credentials removed, or None.
    """

    source: str
    raw_value: str | None
    movie_id: int | None
    row_number: int | None
    reason: str
    http_status: int | None
    attempts: int
    last_error: str | None

    @classmethod
    def from_rejected_id(cls, rejected: RejectedId) -> DeadLetter:
        return cls(
            "ids-file",
            rejected.raw_value,
            None,
            rejected.row_number,
            rejected.reason,
            None,
            0,
            f"row {rejected.row_number}: {rejected.reason} ID {rejected.raw_value!r}",
        )

    @classmethod
    def from_fetch(cls, source: str, result: FetchResult) -> DeadLetter:
        raw_value = str(result.movie_id) if result.movie_id is not None else result.request_path
        return cls(source, raw_value, result.movie_id, None, result.reason or "unknown", result.http_status, result.attempts, result.error)


def dead_letter_rows(letters: list[DeadLetter], partition_date: str, run_id: str) -> pa.Table:
    """Arrow rows for ``bronze.tmdb_dead_letter`` (:data:`DEAD_LETTER_SCHEMA`)."""
    now = datetime.now(UTC)
    day = date.fromisoformat(partition_date)
    return pa.table(
        {
            "source": [d.source for d in letters],
            "raw_value": [d.raw_value for d in letters],
            "movie_id": [d.movie_id for d in letters],
            "row_number": [d.row_number for d in letters],
            "reason": [d.reason for d in letters],
            "http_status": [d.http_status for d in letters],
            "attempts": [d.attempts for d in letters],
            "last_error": [d.last_error for d in letters],
            "partition_date": [day] * len(letters),
            "run_id": [run_id] * len(letters),
            "recorded_at": [now] * len(letters),
        },
        schema=DEAD_LETTER_SCHEMA,
    )


def export_dead_letters_csv(conn: duckdb.DuckDBPyConnection, reports_dir: Path) -> Path:
    """Write the whole ``bronze.tmdb_dead_letter`` table (as ``conn`` sees it, e.g. a lake
    connection) to ``reports_dir/dead_letter_queue.csv``.

    Sorted by partition_date, source, row_number, movie_id. Written to a temp file in the
    same folder and moved into place, so a reader never sees a half-written file.

    Returns:
        the CSV's path.
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    rows = conn.sql(f"SELECT * FROM {DEAD_LETTER_TABLE} ORDER BY partition_date, source, row_number, movie_id, raw_value").to_arrow_table()
    target = reports_dir / DEAD_LETTER_CSV
    with atomic_output(target) as temp_name:
        pa_csv.write_csv(rows, temp_name)
    return target
