"""Write-audit-publish: the readers' warehouse is an immutable snapshot of the audited build.

Runs build silver and gold in a private file (``MOVIES_BUILD_DUCKDB_PATH``). When every
blocking check has passed, :func:`publish_snapshot` copies silver, gold and the dead letters
into a new DuckDB file under ``MOVIES_SERVING_DIR`` and switches the readers' path
``MOVIES_DUCKDB_PATH`` (a symlink) to it in one rename. Whoever opens that path gets the old
complete snapshot or the new complete one; a reader that still has an older snapshot open
keeps reading it: on Linux and macOS a deleted file stays readable while it is open, so
retention never disturbs a reader; on Windows a file in use cannot be deleted, so retention
skips it and removes it on a later publication.

Why a copy instead of serving the build file: DuckDB lets a file have one writer or many
readers, never both, so a reader of the build file would block the next run; a snapshot is
never written again, so any number of readers may hold it open for as long as they like.
The copy is a byte copy of the build file, then frozen (views become tables) and stamped.

Readers' DuckDB versions trail the one that builds: the snapshot is written in a declared
storage version (``MOVIES_SERVING_STORAGE_VERSION``), so DuckDB 1.x clients open it while the
build file stays on the newest format. Any version but ``latest`` costs one more write: the
frozen copy is rewritten table by table into a file of that version (bench/README.md,
"Snapshot storage version").
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from movie_assets.atomic_write import atomic_output
from movie_assets.settings import DEFAULT_SERVING_STORAGE_VERSION
from movie_assets.warehouse.lake import Lake, atomic_symlink

SERVED_SCHEMAS = ("silver", "gold")
SNAPSHOT_PREFIX = "warehouse-"
PUBLICATION_TABLE = "meta.publication"
PUBLICATION_COLUMNS = """
    run_id VARCHAR NOT NULL,
    partition_date DATE,
    published_at TIMESTAMPTZ NOT NULL,
    tmdb_source VARCHAR,
    row_counts JSON NOT NULL,
    snapshot_file VARCHAR NOT NULL,
    previous_snapshot VARCHAR,
    profile JSON,
    accepted_checks JSON,
    storage_version VARCHAR
"""


@dataclass(frozen=True)
class Publication:
    """A published snapshot.

    Attributes:
        snapshot: absolute path of the new read-only DuckDB file.
        previous: file name of the snapshot the readers' path named before, or None.
        row_counts: rows per published table (``schema.table``).
        removed: snapshot files deleted by retention.
        seconds: wall seconds the copy and switch took.
        storage_version: the snapshot's storage version as DuckDB tags it, e.g. ``v1.0.0+``
            (DuckDB 1.0.0 and newer know the format).
    """

    snapshot: Path
    previous: str | None
    row_counts: dict[str, int]
    removed: list[str]
    seconds: float
    storage_version: str


def current_snapshot(readers_path: Path) -> Path | None:
    """The snapshot the readers' path names, or None when nothing was published yet."""
    return readers_path.resolve() if readers_path.is_symlink() and readers_path.exists() else None


def _tables(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? ORDER BY table_name",
            [catalog, schema],
        ).fetchall()
    ]


def _clone_build(build_path: Path, target: Path) -> None:
    """Copy the build file byte for byte to ``target`` after a checkpoint, so the copy holds
    everything committed and needs no write-ahead log.

    A file copy runs at disk speed: at 1M movies x 30 days it is about twenty times faster
    than re-inserting every table into a new file (bench/README.md, "Storage tiers").
    """
    with duckdb.connect(str(build_path)) as conn:
        conn.execute("CHECKPOINT")
    shutil.copyfile(build_path, target)


def _rewrite(staging: Path, target: Path, storage_version: str) -> None:
    """Write every schema, table and macro of ``staging`` into a new DuckDB file ``target`` in
    ``storage_version`` (a DuckDB release, e.g. ``v1.1.0``).

    Raises:
        duckdb.InvalidInputException: DuckDB does not know ``storage_version``.
    """
    # DuckDB creates a database only where no file is: the empty placeholder goes first.
    target.unlink(missing_ok=True)
    with duckdb.connect(str(target), config={"storage_compatibility_version": storage_version}) as conn:
        conn.execute(f"ATTACH '{staging.as_posix()}' AS staging (READ_ONLY)")
        target_catalog = conn.execute("SELECT current_database()").fetchall()[0][0]
        conn.execute(f'COPY FROM DATABASE staging TO "{target_catalog}"')
        conn.execute("DETACH staging")


def _storage_tag(conn: duckdb.DuckDBPyConnection) -> str:
    """The storage version DuckDB tags the connection's database with, e.g. ``v1.0.0+``."""
    return conn.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]


def _freeze(conn: duckdb.DuckDBPyConnection, lake: Lake) -> dict[str, int]:
    """Turn the clone into the readers' snapshot: every view of the served schemas becomes a
    table (a snapshot must not depend on definitions that read elsewhere), other schemas go,
    and the lake's dead letters join as ``bronze.tmdb_dead_letter``. Returns rows per table."""
    catalog = conn.execute("SELECT current_database()").fetchall()[0][0]
    for schema in conn.execute(
        "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? "
        "AND schema_name NOT IN ('main', 'information_schema', 'pg_catalog') ORDER BY 1",
        [catalog],
    ).fetchall():
        if schema[0] not in SERVED_SCHEMAS:
            conn.execute(f'DROP SCHEMA "{schema[0]}" CASCADE')
    views = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_type = 'VIEW' AND table_schema IN ('silver', 'gold') ORDER BY 1, 2",
        [catalog],
    ).fetchall()
    # All views are read while every one of them still exists, then swapped for their tables.
    for schema, view in views:
        conn.execute(f'CREATE TABLE {schema}."{view}__frozen" AS SELECT * FROM {schema}."{view}"')
    for schema, view in views:
        conn.execute(f'DROP VIEW {schema}."{view}"')
        conn.execute(f'ALTER TABLE {schema}."{view}__frozen" RENAME TO "{view}"')
    conn.execute("CREATE SCHEMA bronze")
    if lake.partitions("tmdb_dead_letter"):
        conn.execute(f"CREATE TABLE bronze.tmdb_dead_letter AS SELECT * FROM {lake.scan('tmdb_dead_letter')}")
    counts = {}
    for schema in (*SERVED_SCHEMAS, "bronze"):
        for table in _tables(conn, catalog, schema):
            counts[f"{schema}.{table}"] = conn.execute(f'SELECT count(*) FROM {schema}."{table}"').fetchall()[0][0]
    return counts


#: The published snapshot's point-in-time table macro (DuckDB ``CREATE MACRO ... AS TABLE``).
MOVIES_AS_OF_MACRO = "gold.movies_as_of"


def create_movies_as_of_macro(conn: duckdb.DuckDBPyConnection) -> bool:
    """Create the table macro ``gold.movies_as_of(day DATE)`` in the snapshot open on ``conn``:
    one row per movie with the version of ``gold.dim_movie_history`` valid on ``day``
    (``valid_from <= day < valid_to``, an open ``valid_to`` meaning still valid), its
    columns as in that table (movie_id, valid_from, valid_to, is_current, first_seen_date,
    last_seen_date, version_number, the tracked attributes, changed_attributes). A movie first
    observed after ``day`` has no row. Returns False, creating nothing, when the build has no
    ``gold.dim_movie_history`` (a warehouse built before it existed).

    A macro rather than a view: readers pass the day, and the snapshot stays self-contained
    (the macro reads only its own tables). Its parameter is untyped and cast to DATE inside
    (a DATE or ``'YYYY-MM-DD'`` text both work): typed macro parameters need storage version
    v1.4.0, and snapshots are written for older readers (``MOVIES_SERVING_STORAGE_VERSION``).
    """
    if "dim_movie_history" not in _tables(conn, conn.execute("SELECT current_database()").fetchall()[0][0], "gold"):
        return False
    conn.execute(
        f"""CREATE MACRO {MOVIES_AS_OF_MACRO}(day) AS TABLE
        SELECT * FROM gold.dim_movie_history
        WHERE valid_from <= CAST(day AS DATE) AND (valid_to IS NULL OR CAST(day AS DATE) < valid_to)"""
    )
    return True


def _record(
    conn: duckdb.DuckDBPyConnection,
    previous: Path | None,
    run_id: str,
    partition_date: str | None,
    tmdb_source: str | None,
    counts: dict[str, int],
    snapshot_name: str,
    profile: dict | None,
    accepted: list[str],
    storage_version: str,
) -> None:
    conn.execute("CREATE SCHEMA meta")
    conn.execute(f"CREATE TABLE {PUBLICATION_TABLE} ({PUBLICATION_COLUMNS})")
    if previous is not None:
        conn.execute(f"ATTACH '{previous.as_posix()}' AS previous (READ_ONLY)")
        if "publication" in _tables(conn, "previous", "meta"):
            # By name: a snapshot from an older release lacks the newer columns (they stay NULL).
            conn.execute(f"INSERT INTO {PUBLICATION_TABLE} BY NAME SELECT * FROM previous.meta.publication")
        conn.execute("DETACH previous")
    conn.execute(
        f"INSERT INTO {PUBLICATION_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            partition_date,
            datetime.now(UTC),
            tmdb_source,
            json.dumps(counts, sort_keys=True),
            snapshot_name,
            previous.name if previous else None,
            json.dumps(profile, sort_keys=True) if profile is not None else None,
            json.dumps(accepted),
            storage_version,
        ],
    )


def apply_retention(serving_dir: Path, keep: int, protected: Path) -> list[str]:
    """Delete all but the newest ``keep`` snapshots in ``serving_dir`` (names sort by time),
    never ``protected`` (the one the readers' path names), nor a file the system refuses to
    delete because a reader holds it (Windows). Returns the deleted file names."""
    snapshots = sorted(serving_dir.glob(f"{SNAPSHOT_PREFIX}*.duckdb"), key=lambda path: path.name)
    removed = []
    for old in snapshots[: max(len(snapshots) - keep, 0)]:
        if old.resolve() == protected.resolve():
            continue
        try:
            old.unlink()
        except PermissionError:
            continue
        removed.append(old.name)
    return removed


def publish_snapshot(
    build_path: Path,
    lake: Lake,
    serving_dir: Path,
    readers_path: Path,
    keep: int,
    run_id: str,
    partition_date: str | None,
    tmdb_source: str | None,
    profile: dict | None = None,
    accepted: list[str] | None = None,
    storage_version: str = DEFAULT_SERVING_STORAGE_VERSION,
) -> Publication:
    """Clone the build (silver and gold, views frozen as tables) with the lake's dead letters
    into a new snapshot ``serving_dir/warehouse-<UTC time>-<run id>.duckdb`` with
    ``meta.publication`` (every publication so far, this one last, with the build's drift
    ``profile`` from :mod:`movie_assets.serving.gates` and the ``accepted`` check names of
    the run), make it read-only, point
    ``readers_path`` at it, and apply retention.

    The snapshot is written in ``storage_version`` (``MOVIES_SERVING_STORAGE_VERSION``): a
    DuckDB release such as ``v1.1.0``, the oldest DuckDB meant to open it, or ``latest``, the
    build file's own format (its byte copy, the fastest publish).

    The snapshot is written under a temporary name and renamed when complete, and the link
    is swapped in one rename: a publish killed at any point leaves the readers' path naming
    the previous complete snapshot.

    Raises:
        duckdb.Error: the build file cannot be read (e.g. another process writes it), or
            DuckDB does not know ``storage_version``.
        OSError: the serving folder cannot be written.
    """
    started = datetime.now(UTC)
    serving_dir.mkdir(parents=True, exist_ok=True)
    previous = current_snapshot(readers_path)
    name = f"{SNAPSHOT_PREFIX}{started:%Y%m%dT%H%M%S%fZ}-{run_id[:8]}.duckdb"
    # Runs publish one at a time: a leftover temporary snapshot is a killed publish's.
    for stale in serving_dir.glob(f".{SNAPSHOT_PREFIX}*.tmp*"):
        stale.unlink(missing_ok=True)
    snapshot = serving_dir / name
    with atomic_output(snapshot, mode=0o444) as temporary:
        target = Path(temporary)
        staging = target if storage_version == "latest" else target.with_name(f"{target.name}.staging")
        try:
            _clone_build(build_path, staging)
            with duckdb.connect(str(staging)) as conn:
                counts = _freeze(conn, lake)
            if staging != target:
                _rewrite(staging, target, storage_version)
        finally:
            if staging != target:
                staging.unlink(missing_ok=True)
        with duckdb.connect(temporary) as conn:
            written_version = _storage_tag(conn)
            create_movies_as_of_macro(conn)
            _record(conn, previous, run_id, partition_date, tmdb_source, counts, name, profile, accepted or [], written_version)
            conn.execute("CHECKPOINT")
    readers_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_symlink(readers_path, os.path.relpath(snapshot, readers_path.parent))
    removed = apply_retention(serving_dir, keep, snapshot)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return Publication(snapshot, previous.name if previous else None, counts, removed, seconds, written_version)
