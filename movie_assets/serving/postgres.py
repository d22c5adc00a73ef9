"""Publish the audited star schema to PostgreSQL for BI tools (``MOVIES_SERVING_PG_URL``).

The source is the published DuckDB snapshot (:mod:`movie_assets.serving.publish`), so
PostgreSQL readers get exactly what DuckDB readers got: its ``gold`` tables (the gold views
are frozen as tables there, and so here), the window's ``bronze.tmdb_dead_letter`` rows and
``meta.publication``.

Atomic for readers: every published schema is loaded as ``<schema>__staging`` (invisible to
the reader role), then one transaction locks the published tables, moves what this
publication keeps from the previous one into the staging schemas, renames ``<schema>`` away
and ``<schema>__staging`` in its place and drops the old one. PostgreSQL's DDL is
transactional: a reader sees the old schemas or the new ones. A reader statement waits while
the swap runs; the swap gives way (``lock_timeout``) rather than deadlock a reader that
already holds an old table, and retries.

``gold.fact_movie_daily`` and ``gold.fct_movie_attribute_changes`` are LIST-partitioned by
``date_id``, one partition a day (:data:`DAY_PARTITIONED`).

What a daily run (a publication with a window) loads: the window's days, and every other day
and every other gold table whose content fingerprint differs from the one recorded at the
previous publication (:func:`content_fingerprints`, kept in the loader's schema
:data:`STATE_SCHEMA`, which readers cannot see). What is unchanged is kept as it is: a day's
partition is re-attached to the new partitioned table, a whole table is moved into the new
schema. A kept table or partition whose foreign key points at a reloaded table gets its
foreign key to the new table added and validated before the swap, while readers still read
(PostgreSQL then attaches that constraint instead of validating it under the swap's locks).
A publication without a window loads everything.

Bulk load: DuckDB streams each table as Arrow batches, written as CSV into psycopg's
``COPY ... FROM STDIN``. Keys and comments come from the dbt manifest (``unique``,
``not_null``, ``unique_combination_of_columns`` and ``relationships`` tests; model and column
descriptions).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pyarrow.csv as pacsv
from psycopg import sql

READER_ROLE = "movies_reader"
PUBLISHED_SCHEMAS = ("gold", "bronze", "meta")
STAGING_SUFFIX = "__staging"
OLD_SUFFIX = "__old"
FACT_TABLE = "fact_movie_daily"
#: Gold tables published LIST-partitioned by :data:`PARTITION_COLUMN`, one partition a day.
DAY_PARTITIONED = (FACT_TABLE, "fct_movie_attribute_changes")
PARTITION_COLUMN = "date_id"
#: Bumped when the loader creates tables differently (options, constraints): every
#: fingerprint then differs once, and the next publication reloads what it would have kept.
PUBLISHED_LAYOUT = 2
#: The loader's own schema (never granted to readers): the fingerprints of the last publication.
STATE_SCHEMA = "publication_state"
STATE_TABLE = "published_parts"
DEAD_LETTER_TABLE = "tmdb_dead_letter"
#: Any constant: the advisory lock that makes publications to one database take turns.
ADVISORY_LOCK_KEY = 726_026
SWAP_LOCK_TIMEOUT = "200ms"
SWAP_ATTEMPTS = 100
#: Storage parameters of every loaded table and partition. A published table is never written
#: again and the loader ANALYZEs it, so autovacuum has nothing to do there; left on, its
#: workers on freshly loaded tables hold locks that the next swap must wait for, longer than
#: the swap's ``lock_timeout`` and longer than the ``deadlock_timeout`` after which PostgreSQL
#: would cancel them (measured: a daily publication minutes after a full load at 1M movies
#: failed its 100 swap attempts).
LOADED_TABLE_OPTIONS = " WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)"
BATCH_ROWS = 200_000

_SCALAR_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "JSON": "jsonb",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
}


class UnsupportedType(ValueError):
    """A published column has a DuckDB type without a PostgreSQL mapping; the message names
    the table, the column and the type."""


class PostgresPublicationError(RuntimeError):
    """The publication could not be completed; PostgreSQL keeps the previous publication."""


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a DuckDB column type (as ``duckdb_columns().data_type`` spells it).

    ``DECIMAL(p,s)`` → ``numeric(p,s)``, ``DOUBLE`` → ``double precision``, ``DATE`` →
    ``date``, ``BIGINT`` → ``bigint``, ``VARCHAR`` → ``text``, ``JSON``, ``STRUCT`` and
    ``MAP`` (and lists of them) → ``jsonb``, a list ``T[]`` of a scalar type → the PostgreSQL array ``pg(T)[]``.

    Raises:
        UnsupportedType: no mapping (e.g. ``BLOB``, a list of lists, a list of structs).
    """
    text = duckdb_type.strip().upper()
    if text in _SCALAR_TYPES:
        return _SCALAR_TYPES[text]
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", text)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    if text.startswith(("STRUCT(", "MAP(")):
        return "jsonb"
    if text.endswith("[]"):
        element = text[:-2]
        if element in _SCALAR_TYPES and element != "JSON" or re.fullmatch(r"DECIMAL\(\d+,\s*\d+\)", element):
            return f"{pg_type(element)}[]"
    raise UnsupportedType(f"DuckDB type {duckdb_type} has no PostgreSQL mapping")


def csv_expression(column: str, duckdb_type: str) -> str:
    """The DuckDB select expression that renders ``column`` as PostgreSQL's CSV ``COPY`` reads
    it: lists as array literals (``{"a","b"}``, elements quoted and escaped), structs and maps
    as JSON, other types as they are (Arrow's CSV writer formats them)."""
    text = duckdb_type.strip().upper()
    quoted = f'"{column}"'
    if text.startswith(("STRUCT(", "MAP(")):
        return f"to_json({quoted}) AS {quoted}"
    if text.endswith("[]"):
        if text[:-2] in ("VARCHAR", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "INTERVAL", "UUID"):
            element = """'"' || replace(replace(CAST(e AS VARCHAR), '\\', '\\\\'), '"', '\\"') || '"'"""
        else:
            element = "CAST(e AS VARCHAR)"
        return (
            f"CASE WHEN {quoted} IS NULL THEN NULL ELSE '{{' || array_to_string("
            f"list_transform({quoted}, lambda e: CASE WHEN e IS NULL THEN 'NULL' ELSE {element} END), ',') || '}}' END AS {quoted}"
        )
    return quoted


@dataclass
class ServedTable:
    """A table of the snapshot to publish.

    Attributes:
        schema: its schema (``gold``, ``bronze`` or ``meta``), the same in PostgreSQL.
        name: its name.
        columns: ``(name, DuckDB type)`` in table order.
        where: a DuckDB filter of the rows published (the window's dead letters), or None.
    """

    schema: str
    name: str
    columns: list[tuple[str, str]]
    where: str | None = None


@dataclass
class Keys:
    """What the dbt manifest declares about the gold models.

    Attributes:
        primary_keys: table → key columns (a ``unique`` + ``not_null`` column, or a
            ``unique_combination_of_columns`` whose columns are all ``not_null``).
        foreign_keys: ``(table, column, referenced table, referenced column)`` of each
            ``relationships`` test whose target column is its table's primary key.
        table_comments: table → model description.
        column_comments: table → column → description.
    """

    primary_keys: dict[str, list[str]] = field(default_factory=dict)
    foreign_keys: list[tuple[str, str, str, str]] = field(default_factory=list)
    table_comments: dict[str, str] = field(default_factory=dict)
    column_comments: dict[str, dict[str, str]] = field(default_factory=dict)


def manifest_keys(manifest_path: Path, schema: str = "gold") -> Keys:
    """Keys and comments of the models of ``schema`` from dbt's ``manifest.json``; tests with
    severity ``warn`` declare nothing (their data may break them).

    Raises:
        OSError: the manifest cannot be read.
        json.JSONDecodeError: it is not JSON.
    """
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    models = {unique_id: node for unique_id, node in manifest["nodes"].items() if node["resource_type"] == "model" and node.get("schema") == schema}
    keys = Keys()
    for node in models.values():
        name = node.get("alias") or node["name"]
        if node.get("description"):
            keys.table_comments[name] = node["description"].strip()
        keys.column_comments[name] = {
            column: spec["description"].strip() for column, spec in node.get("columns", {}).items() if spec.get("description")
        }
    not_null: dict[str, set[str]] = {}
    unique: dict[str, list[list[str]]] = {}
    relationships = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or node.get("attached_node") not in models or not node.get("test_metadata"):
            continue
        if str(node["config"].get("severity", "error")).lower() != "error":
            continue
        table = models[node["attached_node"]].get("alias") or models[node["attached_node"]]["name"]
        kind, kwargs = node["test_metadata"]["name"], node["test_metadata"].get("kwargs", {})
        if kind == "not_null":
            not_null.setdefault(table, set()).add(node["column_name"])
        elif kind == "unique":
            unique.setdefault(table, []).append([node["column_name"]])
        elif kind == "unique_combination_of_columns":
            unique.setdefault(table, []).append(list(kwargs["combination_of_columns"]))
        elif kind == "relationships":
            targets = [other for other in node["depends_on"]["nodes"] if other != node["attached_node"] and other in models]
            if len(targets) == 1:
                target = models[targets[0]].get("alias") or models[targets[0]]["name"]
                relationships.append((table, node["column_name"], target, kwargs["field"]))
    for table, candidates in unique.items():
        complete = [columns for columns in candidates if set(columns) <= not_null.get(table, set())]
        if complete:
            keys.primary_keys[table] = min(complete, key=len)
    keys.foreign_keys = sorted(
        {
            (table, column, target, target_column)
            for table, column, target, target_column in relationships
            if keys.primary_keys.get(target) == [target_column] and table != target
        }
    )
    return keys


def served_tables(conn: duckdb.DuckDBPyConnection, window: list[date] | None) -> list[ServedTable]:
    """The tables of the snapshot open on ``conn`` to publish: every ``gold`` table, the
    window's rows of ``bronze.tmdb_dead_letter`` (all of them without a window) and
    ``meta.publication``."""
    rows = conn.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND (schema_name = 'gold' "
        "OR (schema_name = 'bronze' AND table_name = ?) OR (schema_name = 'meta' AND table_name = 'publication')) "
        "ORDER BY schema_name, table_name, column_index",
        [DEAD_LETTER_TABLE],
    ).fetchall()
    tables: dict[tuple[str, str], ServedTable] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), ServedTable(schema, table, [])).columns.append((column, data_type))
    if window and ("bronze", DEAD_LETTER_TABLE) in tables:
        days = ", ".join(f"DATE '{day.isoformat()}'" for day in window)
        tables[("bronze", DEAD_LETTER_TABLE)].where = f"CAST(partition_date AS DATE) IN ({days})"
    return list(tables.values())


def _pg_columns(table: ServedTable) -> list[tuple[str, str]]:
    """``(column, PostgreSQL type)`` of ``table``; raises :class:`UnsupportedType` naming the column."""
    columns = []
    for column, data_type in table.columns:
        try:
            columns.append((column, pg_type(data_type)))
        except UnsupportedType as error:
            raise UnsupportedType(f"{table.schema}.{table.name}.{column}: {error}") from None
    return columns


def _column_definitions(table: ServedTable, keys: Keys) -> sql.Composed:
    key_columns = set(keys.primary_keys.get(table.name, [])) if table.schema == "gold" else set()
    if table.schema == "gold" and table.name in DAY_PARTITIONED:
        # NOT NULL with the partition's CHECK lets ATTACH skip scanning a kept partition.
        key_columns.add(PARTITION_COLUMN)
    return sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(column), sql.SQL(mapped), sql.SQL(" NOT NULL" if column in key_columns else ""))
        for column, mapped in _pg_columns(table)
    )


def copy_table(
    source: duckdb.DuckDBPyConnection, target: psycopg.Connection, table: ServedTable, target_schema: str, where: str | None = None
) -> int:
    """Stream ``table`` (rows matching its own filter and ``where``) from DuckDB into
    ``target_schema.<name>`` in PostgreSQL with one ``COPY ... FROM STDIN (FORMAT csv)``.
    Returns the rows copied.

    Raises:
        psycopg.Error: PostgreSQL refused a row (the message names the column and line).
    """
    filters = [condition for condition in (table.where, where) if condition]
    query = f'SELECT {", ".join(csv_expression(column, data_type) for column, data_type in table.columns)} FROM "{table.schema}"."{table.name}"' + (
        f" WHERE {' AND '.join(filters)}" if filters else ""
    )
    statement = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(target_schema), sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(column) for column, _ in table.columns)
    )
    rows = 0
    options = pacsv.WriteOptions(include_header=False)
    with target.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in source.sql(query).fetch_record_batch(BATCH_ROWS):
            if batch.num_rows == 0:
                continue
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())
            rows += batch.num_rows
    return rows


def _date_id(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _partition_name(table: str, date_id: int) -> str:
    return f"{table}_p{date_id}"


def _exists(conn: psycopg.Connection, schema: str, table: str | None = None) -> bool:
    if table is None:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() is not None
    return conn.execute("SELECT to_regclass(%s)", [f'"{schema}"."{table}"']).fetchone()[0] is not None


#: A part of a publication: ``(gold table, None)`` for a whole table, ``(gold table, date_id)``
#: for one day of a :data:`DAY_PARTITIONED` table.
Part = tuple[str, int | None]


def _definition(table: ServedTable, keys: Keys) -> str:
    """sha256 of everything PostgreSQL is told about a gold table besides its rows: columns and
    their PostgreSQL types, partitioning, keys, comments."""
    spec = {
        "layout": PUBLISHED_LAYOUT,
        "columns": _pg_columns(table),
        "partitioned": table.name in DAY_PARTITIONED,
        "primary_key": keys.primary_keys.get(table.name),
        "foreign_keys": [list(key) for key in keys.foreign_keys if key[0] == table.name],
        "comment": keys.table_comments.get(table.name),
        "column_comments": keys.column_comments.get(table.name, {}),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def content_fingerprints(source: duckdb.DuckDBPyConnection, tables: list[ServedTable], keys: Keys) -> dict[Part, str]:
    """The fingerprint of each gold table of ``tables``, and of each day of the
    :data:`DAY_PARTITIONED` ones, in the snapshot open on ``source``:
    ``<definition sha256>:<rows>:<sum of DuckDB's 64-bit hash of each row>``.

    Equal fingerprints mean equal content: the sum does not depend on row order, and two
    different contents meet with a probability of about 2^-64. DuckDB's hash may change with
    a DuckDB release; then every fingerprint differs once and the next publication loads
    everything, the safe side.

    Raises:
        UnsupportedType: a column has no PostgreSQL type.
        PostgresPublicationError: a day-partitioned table has rows without a ``date_id``.
    """
    fingerprints: dict[Part, str] = {}
    for table in tables:
        if table.schema != "gold":
            continue
        definition = _definition(table, keys)
        # The alias is the row as a struct; hash() of it covers every column.
        hashed = f'count(*), CAST(sum(CAST(hash(published_row) AS HUGEINT)) AS VARCHAR) FROM gold."{table.name}" AS published_row'
        if table.name in DAY_PARTITIONED:
            for day, rows, total in source.execute(f"SELECT {PARTITION_COLUMN}, {hashed} GROUP BY 1").fetchall():
                if day is None:
                    raise PostgresPublicationError(f"gold.{table.name} has {rows} rows without a {PARTITION_COLUMN}: no partition can hold them")
                fingerprints[(table.name, int(day))] = f"{definition}:{rows}:{total}"
        else:
            rows, total = source.execute(f"SELECT {hashed}").fetchall()[0]
            fingerprints[(table.name, None)] = f"{definition}:{rows}:{total}"
    return fingerprints


def published_fingerprints(conn: psycopg.Connection) -> dict[Part, str]:
    """The fingerprints recorded by the last publication that reached readers, restricted to
    the gold tables and day partitions that still exist ({} before the first one)."""
    if not _exists(conn, STATE_SCHEMA, STATE_TABLE):
        return {}
    present_tables = {table for schema, table in _published_tables(conn) if schema == "gold"}
    present_days = {
        (parent, int(match.group(1)))
        for parent, child in conn.execute(
            "SELECT p.relname, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = 'gold'"
        ).fetchall()
        if (match := re.fullmatch(rf"{re.escape(parent)}_p(\d+)", child))
    }
    recorded = conn.execute(
        sql.SQL("SELECT table_name, date_id, fingerprint FROM {}.{}").format(sql.Identifier(STATE_SCHEMA), sql.Identifier(STATE_TABLE))
    )
    return {
        (table, day): fingerprint
        for table, day, fingerprint in recorded.fetchall()
        if (day is None and table in present_tables) or (day is not None and (table, day) in present_days)
    }


@dataclass(frozen=True)
class PublicationPlan:
    """What a publication loads and what it keeps from the previous one.

    Attributes:
        kept_tables: gold tables moved whole into the new publication.
        load_days: day-partitioned table → ``date_id`` of the partitions to load.
        kept_days: day-partitioned table → ``date_id`` of the partitions to re-attach.
    """

    kept_tables: list[str]
    load_days: dict[str, list[int]]
    kept_days: dict[str, list[int]]


def plan_publication(current: dict[Part, str], previous: dict[Part, str], window_ids: set[int] | None) -> PublicationPlan:
    """Keep every gold table and day partition whose fingerprint in ``current`` (the snapshot,
    :func:`content_fingerprints`) equals the one in ``previous`` (PostgreSQL,
    :func:`published_fingerprints`), except the days of ``window_ids`` (always loaded); load
    the rest. ``window_ids`` None (a full publication) keeps nothing."""
    kept_tables: list[str] = []
    load_days: dict[str, list[int]] = {table: [] for table, day in current if day is not None}
    kept_days: dict[str, list[int]] = {table: [] for table in load_days}
    for (table, day), fingerprint in sorted(current.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        unchanged = window_ids is not None and previous.get((table, day)) == fingerprint
        if day is None:
            if unchanged:
                kept_tables.append(table)
        elif unchanged and day not in window_ids:
            kept_days[table].append(day)
        else:
            load_days[table].append(day)
    return PublicationPlan(kept_tables, load_days, kept_days)


@dataclass(frozen=True)
class PgPublication:
    """A publication to PostgreSQL.

    Attributes:
        row_counts: rows per published table (``schema.table``), as PostgreSQL holds them.
        loaded_rows: rows copied by this publication.
        loaded_days: ``date_id`` of the ``gold.fact_movie_daily`` partitions loaded.
        reused_days: ``date_id`` of the ``gold.fact_movie_daily`` partitions kept from the
            previous publication.
        kept_tables: gold tables kept whole from the previous publication (their content
            fingerprint unchanged).
        kept_partitions: day partitions of every :data:`DAY_PARTITIONED` table kept.
        seconds: wall seconds, from connecting to the swap's commit.
        validate_seconds: wall seconds of adding the foreign keys of kept tables and
            partitions to reloaded ones, before the swap (readers still read).
        swap_seconds: wall seconds of the swap transaction (readers wait at most this long).
    """

    row_counts: dict[str, int]
    loaded_rows: int
    loaded_days: list[int]
    reused_days: list[int]
    kept_tables: list[str]
    kept_partitions: int
    seconds: float
    validate_seconds: float
    swap_seconds: float


def ensure_reader_role(conn: psycopg.Connection, reader_password: str | None) -> None:
    """Create :data:`READER_ROLE` (LOGIN, nothing else) when missing and, when given, set its
    password, sent as a SCRAM-SHA-256 verifier made by libpq (the server, its log and
    ``pg_stat_activity`` never see the password). Let it ``CONNECT`` to the database, and no
    one else but the owner; take ``CREATE`` on schema ``public`` from everyone.

    Raises:
        psycopg.errors.InsufficientPrivilege: the loader may not create roles and the reader
            role does not exist yet (create it once as a superuser).
    """
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [READER_ROLE]).fetchone() is None:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(READER_ROLE)))
    if reader_password:
        verifier = conn.pgconn.encrypt_password(reader_password.encode(), READER_ROLE.encode(), b"scram-sha-256").decode()
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(READER_ROLE), sql.Literal(verifier)))
    database = sql.Identifier(conn.info.dbname)
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, sql.Identifier(READER_ROLE)))
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")


def _giving_way_to_readers(conn: psycopg.Connection, what: str, work: Callable[[], None], log: Callable[[str], None]) -> None:
    """Run ``work`` (statements on ``conn``) in one transaction whose locks wait at most
    ``SWAP_LOCK_TIMEOUT``; when one is not granted in time, roll back, sleep 20-200 ms and
    start again, up to ``SWAP_ATTEMPTS`` times. A reader holds a published table this
    transaction waits for, and may wait for one it holds: giving way lets the reader finish
    instead of queueing every later reader behind this transaction.

    Raises:
        PostgresPublicationError: no attempt got its locks; names ``what`` and the other sessions.
    """
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(SWAP_LOCK_TIMEOUT)))
                work()
            return
        except psycopg.errors.LockNotAvailable:
            if attempt == SWAP_ATTEMPTS:
                raise PostgresPublicationError(
                    f"{what} did not get its locks in {SWAP_ATTEMPTS} attempts; other sessions: {_other_sessions(conn)}"
                ) from None
            if attempt % 10 == 0:
                log(f"{what} waiting for readers (attempt {attempt})")
            time.sleep(random.uniform(0.02, 0.2))


def _drop_stale_staging(conn: psycopg.Connection, log: Callable[[str], None]) -> None:
    """Drop a failed publication's staging schemas. Its foreign keys from published tables to
    staging tables go with them, which locks those published tables: give way to readers."""

    def drop() -> None:
        for schema in PUBLISHED_SCHEMAS:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema + STAGING_SUFFIX)))

    _giving_way_to_readers(conn, "dropping a failed publication's staging schemas", drop, log)


def _create_staging(conn: psycopg.Connection, tables: list[ServedTable], keys: Keys, plan: PublicationPlan) -> None:
    for schema in PUBLISHED_SCHEMAS:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema + STAGING_SUFFIX)))
    for table in tables:
        if table.schema == "gold" and table.name in plan.kept_tables:
            continue
        staging = sql.Identifier(table.schema + STAGING_SUFFIX)
        partitioned = table.schema == "gold" and table.name in DAY_PARTITIONED
        conn.execute(
            sql.SQL("CREATE TABLE {}.{} ({}){}").format(
                staging,
                sql.Identifier(table.name),
                _column_definitions(table, keys),
                sql.SQL(" PARTITION BY LIST ({})").format(sql.Identifier(PARTITION_COLUMN)) if partitioned else sql.SQL(LOADED_TABLE_OPTIONS),
            )
        )
        if partitioned:
            for date_id in plan.load_days.get(table.name, []):
                _create_partition(conn, table.schema + STAGING_SUFFIX, table.name, date_id)


def _create_partition(conn: psycopg.Connection, schema: str, table: str, date_id: int) -> None:
    name = _partition_name(table, date_id)
    conn.execute(
        sql.SQL("CREATE TABLE {}.{} PARTITION OF {}.{} FOR VALUES IN ({})" + LOADED_TABLE_OPTIONS).format(
            sql.Identifier(schema), sql.Identifier(name), sql.Identifier(schema), sql.Identifier(table), sql.Literal(date_id)
        )
    )
    # The partition carries its bound as a CHECK too: a later publication re-attaches it
    # without scanning it (PostgreSQL skips the scan when a constraint implies the bound).
    conn.execute(
        sql.SQL("ALTER TABLE {}.{} ADD CONSTRAINT {} CHECK ({} = {})").format(
            sql.Identifier(schema),
            sql.Identifier(name),
            sql.Identifier(f"{name}_day"),
            sql.Identifier(PARTITION_COLUMN),
            sql.Literal(date_id),
        )
    )


def _declare_keys_and_comments(conn: psycopg.Connection, tables: list[ServedTable], keys: Keys, plan: PublicationPlan) -> float:
    """Keys and comments of the loaded gold tables, and the foreign keys of kept tables and
    partitions to reloaded tables (validated now, while readers still read the published
    schema). Returns the seconds spent on the latter."""
    staging, gold = sql.Identifier("gold" + STAGING_SUFFIX), sql.Identifier("gold")
    kept = set(plan.kept_tables)
    loaded = {table.name: table for table in tables if table.schema == "gold" and table.name not in kept}
    for name, columns in keys.primary_keys.items():
        if name in loaded:
            conn.execute(
                sql.SQL("ALTER TABLE {}.{} ADD PRIMARY KEY ({})").format(
                    staging, sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
            )
    validating = 0.0
    for table, column, target, target_column in keys.foreign_keys:
        if target not in loaded and target not in kept:
            continue
        references = sql.SQL("FOREIGN KEY ({}) REFERENCES {}.{} ({})").format(
            sql.Identifier(column), staging if target in loaded else gold, sql.Identifier(target), sql.Identifier(target_column)
        )
        if table in loaded:
            # A kept target is referenced where it is published; the swap moves it, the key follows.
            conn.execute(sql.SQL("ALTER TABLE {}.{} ADD {}").format(staging, sql.Identifier(table), references))
        if target not in loaded:
            continue
        # What is kept and points at a reloaded table needs the key to the new table; a kept
        # partition with that key validated attaches without a scan under the swap's locks.
        started = time.monotonic()
        relations = [table] if table in kept else [_partition_name(table, day) for day in plan.kept_days.get(table, [])]
        for relation in relations:
            conn.execute(sql.SQL("ALTER TABLE {}.{} ADD {}").format(gold, sql.Identifier(relation), references))
        validating += time.monotonic() - started
    for name, table in loaded.items():
        if name in keys.table_comments:
            conn.execute(sql.SQL("COMMENT ON TABLE {}.{} IS {}").format(staging, sql.Identifier(name), sql.Literal(keys.table_comments[name])))
        present = {column for column, _ in table.columns}
        for column, text in keys.column_comments.get(name, {}).items():
            if column in present:
                conn.execute(
                    sql.SQL("COMMENT ON COLUMN {}.{}.{} IS {}").format(staging, sql.Identifier(name), sql.Identifier(column), sql.Literal(text))
                )
    return validating


def _published_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1, 2",
        [list(PUBLISHED_SCHEMAS)],
    ).fetchall()


def _ensure_state(conn: psycopg.Connection) -> None:
    state = sql.Identifier(STATE_SCHEMA)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(state))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(state))
    conn.execute(
        sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} (table_name text NOT NULL, date_id integer, fingerprint text NOT NULL)").format(
            state, sql.Identifier(STATE_TABLE)
        )
    )


def _other_sessions(conn: psycopg.Connection) -> str:
    """The database's other active sessions (process id, type, first 80 characters of the
    statement), for the error of a swap that could not get its locks."""
    rows = conn.execute(
        "SELECT pid, backend_type, left(query, 80) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'"
    ).fetchall()
    return "; ".join(f"{pid} {kind}: {query}" for pid, kind, query in rows) or "none"


def _swap(conn: psycopg.Connection, plan: PublicationPlan, fingerprints: dict[Part, str], log: Callable[[str], None]) -> None:
    """One transaction: lock the published tables, move the kept tables and partitions, swap
    the schemas, grant the reader, drop the old schemas, record the fingerprints; giving way
    to readers (:func:`_giving_way_to_readers`)."""
    reader = sql.Identifier(READER_ROLE)
    staging = sql.Identifier("gold" + STAGING_SUFFIX)

    def swap() -> None:
        old = _published_tables(conn)
        if old:
            conn.execute(
                sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(sql.Identifier(schema, table) for schema, table in old))
            )
        for table, days in plan.kept_days.items():
            parent = sql.Identifier(table)
            for date_id in days:
                name = sql.Identifier(_partition_name(table, date_id))
                conn.execute(sql.SQL("ALTER TABLE gold.{} DETACH PARTITION gold.{}").format(parent, name))
                conn.execute(sql.SQL("ALTER TABLE gold.{} SET SCHEMA {}").format(name, staging))
                conn.execute(
                    sql.SQL("ALTER TABLE {}.{} ATTACH PARTITION {}.{} FOR VALUES IN ({})").format(
                        staging, parent, staging, name, sql.Literal(date_id)
                    )
                )
        for table in plan.kept_tables:
            conn.execute(sql.SQL("ALTER TABLE gold.{} SET SCHEMA {}").format(sql.Identifier(table), staging))
        for schema in PUBLISHED_SCHEMAS:
            if _exists(conn, schema):
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema + OLD_SUFFIX)))
                conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(schema), sql.Identifier(schema + OLD_SUFFIX)))
            conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(schema + STAGING_SUFFIX), sql.Identifier(schema)))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), reader))
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema), reader))
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema + OLD_SUFFIX)))
        state = sql.Identifier(STATE_SCHEMA, STATE_TABLE)
        conn.execute(sql.SQL("DELETE FROM {}").format(state))
        with conn.cursor() as cursor:
            cursor.executemany(
                sql.SQL("INSERT INTO {} (table_name, date_id, fingerprint) VALUES (%s, %s, %s)").format(state),
                [(table, day, fingerprint) for (table, day), fingerprint in fingerprints.items()],
            )

    _giving_way_to_readers(conn, "the schema swap", swap, log)


def publish_postgres(
    snapshot: Path,
    url: str,
    manifest_path: Path,
    window: list[date] | None,
    reader_password: str | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> PgPublication:
    """Publish the DuckDB snapshot ``snapshot`` (read-only) to the PostgreSQL database at
    ``url`` (libpq URL of the loader role), atomically for readers.

    Args:
        snapshot: a published snapshot file (schemas ``gold``, ``bronze``, ``meta``).
        url: ``postgresql://loader[:password]@host:port/database``; a secret, never logged.
        manifest_path: dbt's ``manifest.json`` (keys and comments).
        window: the run's days; the day partitions of these days are always loaded, and the
            dead letters are those of these days; other days and gold tables are kept when
            unchanged since the previous publication. None: everything is loaded, every dead
            letter.
        reader_password: password to set on :data:`READER_ROLE`, or None to leave it.
        log: receives progress lines (no secret in them).

    Returns:
        What was published, see :class:`PgPublication`.

    Raises:
        psycopg.OperationalError: PostgreSQL cannot be reached or refused the login (the
            message is libpq's, without the password).
        UnsupportedType: a column has no PostgreSQL type.
        PostgresPublicationError: the swap could not take its locks, or a day-partitioned
            table has rows without a day.
    """
    started = time.monotonic()
    keys = manifest_keys(manifest_path)
    window_ids = {_date_id(day) for day in window} if window is not None else None
    with duckdb.connect(str(snapshot), read_only=True) as source, psycopg.connect(url, autocommit=True) as conn:
        source.execute("SET TimeZone = 'UTC'")
        conn.execute("SET TimeZone = 'UTC'")
        # Publications to one database take turns; the lock ends with the session, even a killed one.
        conn.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        ensure_reader_role(conn, reader_password)
        _ensure_state(conn)
        tables = served_tables(source, window)
        fingerprints = content_fingerprints(source, tables, keys)
        plan = plan_publication(fingerprints, published_fingerprints(conn) if window_ids is not None else {}, window_ids)
        fact_loaded, fact_kept = plan.load_days.get(FACT_TABLE, []), plan.kept_days.get(FACT_TABLE, [])
        log(
            f"loading {len(tables) - len(plan.kept_tables)} tables into staging, keeping {len(plan.kept_tables)}; "
            f"fact days: {len(fact_loaded)} to load, {len(fact_kept)} kept"
        )
        _drop_stale_staging(conn, log)
        _create_staging(conn, tables, keys, plan)
        loaded = 0
        for table in tables:
            where = None
            if table.schema == "gold" and table.name in plan.kept_tables:
                continue
            if table.schema == "gold" and table.name in DAY_PARTITIONED:
                days = plan.load_days.get(table.name, [])
                if not days:
                    continue
                where = f"{PARTITION_COLUMN} IN ({', '.join(str(day) for day in days)})" if plan.kept_days.get(table.name) else None
            loaded += copy_table(source, conn, table, table.schema + STAGING_SUFFIX, where)
            conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(table.schema + STAGING_SUFFIX), sql.Identifier(table.name)))
        validate_seconds = _declare_keys_and_comments(conn, tables, keys, plan)
        swap_started = time.monotonic()
        _swap(conn, plan, fingerprints, log)
        swap_seconds = time.monotonic() - swap_started
        counts = {
            f"{schema}.{table}": conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))).fetchone()[0]
            for schema, table in _published_tables(conn)
        }
        conn.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
    return PgPublication(
        row_counts=counts,
        loaded_rows=loaded,
        loaded_days=fact_loaded,
        reused_days=fact_kept,
        kept_tables=plan.kept_tables,
        kept_partitions=sum(len(days) for days in plan.kept_days.values()),
        seconds=time.monotonic() - started,
        validate_seconds=validate_seconds,
        swap_seconds=swap_seconds,
    )


def window_days(window: dict[str, str] | None) -> list[date] | None:
    """The days of a run window ``{"min_date": first, "max_date": day after last}`` (ISO), as
    :func:`movie_assets.partitions.partition_window` gives it; None for None."""
    if window is None:
        return None
    first, end = date.fromisoformat(window["min_date"]), date.fromisoformat(window["max_date"])
    return [date.fromordinal(ordinal) for ordinal in range(first.toordinal(), end.toordinal())]
