"""The DuckDB → PostgreSQL type map of the PostgreSQL publication, and the CSV rendering of lists."""

import duckdb
import pytest

from movie_assets.serving.postgres import UnsupportedType, csv_expression, pg_type


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("DATE", "date"),
        ("BIGINT", "bigint"),
        ("INTEGER", "integer"),
        ("DOUBLE", "double precision"),
        ("DECIMAL(18,2)", "numeric(18,2)"),
        ("DECIMAL(38, 4)", "numeric(38,4)"),
        ("VARCHAR", "text"),
        ("BOOLEAN", "boolean"),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
        ("TIMESTAMP", "timestamp"),
        ("JSON", "jsonb"),
        ("HUGEINT", "numeric(38,0)"),
        ("UBIGINT", "numeric(20,0)"),
        ("VARCHAR[]", "text[]"),
        ("BIGINT[]", "bigint[]"),
        ("DECIMAL(10,2)[]", "numeric(10,2)[]"),
        ("STRUCT(a INTEGER, b VARCHAR)", "jsonb"),
        ("MAP(VARCHAR, INTEGER)", "jsonb"),
        ("STRUCT(a INTEGER)[]", "jsonb"),
    ],
)
def test_duckdb_types_map_exactly(duckdb_type: str, expected: str):
    assert pg_type(duckdb_type) == expected


@pytest.mark.parametrize("duckdb_type", ["BLOB", "VARCHAR[][]", "BIT"])
def test_a_type_without_mapping_is_refused_by_name(duckdb_type: str):
    with pytest.raises(UnsupportedType, match="has no PostgreSQL mapping"):
        pg_type(duckdb_type)


def test_lists_render_as_postgresql_array_literals():
    with duckdb.connect() as conn:
        rendered = conn.execute(
            f"SELECT {csv_expression('names', 'VARCHAR[]')}, {csv_expression('ids', 'BIGINT[]')} FROM (VALUES "
            """(['Drama', 'Sci-Fi "B"', 'back\\slash', NULL, ''], [1, NULL, 3]), ([], []), (NULL, NULL)) AS t(names, ids)"""
        ).fetchall()
    assert rendered == [
        ('{"Drama","Sci-Fi \\"B\\"","back\\\\slash",NULL,""}', "{1,NULL,3}"),
        ("{}", "{}"),
        (None, None),
    ]
