"""Each bronze table's schema is declared once, as an Arrow schema in Python; the Parquet
writers, the DuckDB DDL of a first run's empty tables and dbt's bronze sources all follow it."""

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from movie_assets.providers.deliveries import CRITIC_AGG, DELIVERIES, ParsedDelivery, delivery_rows
from movie_assets.settings import REPO_ROOT
from movie_assets.tmdb.assets import TMDB_MOVIES_SCHEMA, TMDB_MOVIES_TABLE, fetched_rows
from movie_assets.tmdb.client import FetchResult
from movie_assets.tmdb.dead_letters import DEAD_LETTER_SCHEMA, DEAD_LETTER_TABLE, DeadLetter, dead_letter_rows
from movie_assets.warehouse.lake import Lake, schema_ddl

SOURCES_FILE = REPO_ROOT / "dbt_project" / "models" / "silver" / "_bronze_sources.yml"
SCHEMAS = {
    "tmdb_movies": TMDB_MOVIES_SCHEMA,
    "tmdb_dead_letter": DEAD_LETTER_SCHEMA,
    **{delivery.name: delivery.schema for delivery in DELIVERIES},
}
DAY = "2026-11-20"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def duckdb_types(schema: pa.Schema) -> list[tuple[str, str, bool]]:
    """(name, DuckDB type in lower case, nullable) per column, parsed from :func:`schema_ddl`."""
    columns = []
    for column in schema_ddl(schema).split(", "):
        name, _, rest = column[1:].partition('" ')
        not_null = rest.endswith(" NOT NULL")
        columns.append((name, rest.removesuffix(" NOT NULL").lower(), not not_null))
    return columns


def test_the_dbt_sources_list_exactly_the_declared_columns_and_types():
    sources = yaml.safe_load(SOURCES_FILE.read_text())["sources"]
    tables = {table["name"]: table for source in sources if source["name"] == "bronze" for table in source["tables"]}
    assert set(tables) == set(SCHEMAS)
    for name, schema in SCHEMAS.items():
        declared = [(column["name"], column.get("data_type")) for column in tables[name]["columns"]]
        expected = [(column, column_type) for column, column_type, _ in duckdb_types(schema)]
        assert declared == expected, name


def test_the_ddl_follows_the_schema():
    assert duckdb_types(TMDB_MOVIES_SCHEMA)[:3] == [
        ("movie_id", "bigint", False),
        ("payload", "varchar", False),
        ("fetched_at", "timestamp with time zone", False),
    ]
    assert ("raw_value", "varchar", True) in duckdb_types(DEAD_LETTER_SCHEMA)
    assert duckdb_types(CRITIC_AGG.schema)[0] == ("Movie Title", "varchar", True)


def test_the_writers_build_the_declared_schema():
    fetched = FetchResult(550, 200, '{"id": 550}', "/3/movie/550", 1, None, None, NOW)
    assert fetched_rows([fetched], DAY, "run", "snapshot").schema == TMDB_MOVIES_SCHEMA
    letter = DeadLetter("fetch", "551", 551, None, "not-found", 404, 1, "404")
    assert dead_letter_rows([letter], DAY, "run").schema == DEAD_LETTER_SCHEMA
    parsed = ParsedDelivery(rows=pa.table({"Movie Title": ["Alien"]}), found_columns=["Movie Title"], sha256="0" * 64)
    assert delivery_rows(CRITIC_AGG, parsed, "providers/critic_agg.csv", NOW).schema == CRITIC_AGG.schema


@pytest.mark.parametrize("table", [TMDB_MOVIES_TABLE, DEAD_LETTER_TABLE])
def test_a_landed_partition_reads_as_the_empty_table_of_a_first_run(tmp_path: Path, table: str):
    """The lake's view over a written partition (Parquet, partition_date from the folder) has
    the columns and types of the empty table the DDL makes before any partition exists."""
    schema = SCHEMAS[table.split(".")[1]]
    empty_lake, lake = Lake(tmp_path / "empty"), Lake(tmp_path / "lake")
    with empty_lake.connect_bronze({table: schema}) as conn:
        empty = conn.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
    if table == TMDB_MOVIES_TABLE:
        rows = fetched_rows([FetchResult(550, 200, '{"id": 550}', "/3/movie/550", 1, None, None, NOW)], DAY, "run", "live")
    else:
        rows = dead_letter_rows([DeadLetter("fetch", "551", 551, None, "not-found", 404, 1, "404")], DAY, "run")
    lake.write_partition(table, DAY, rows)
    with lake.connect_bronze({table: schema}) as conn:
        landed = dict(conn.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
        assert conn.execute(f"SELECT count(*), min(partition_date)::VARCHAR FROM {table}").fetchone() == (1, DAY)
    assert {name: landed[name] for name, _ in empty} == dict(empty)
