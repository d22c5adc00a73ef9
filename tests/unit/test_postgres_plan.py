"""What a PostgreSQL publication loads and what it keeps: content fingerprints of a real DuckDB
file, and the plan drawn from them and the previous publication's."""

import duckdb
import pytest

from movie_assets.serving.postgres import Keys, PostgresPublicationError, content_fingerprints, plan_publication, served_tables

FACT, CHANGES = "fact_movie_daily", "fct_movie_attribute_changes"


@pytest.fixture
def snapshot():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA gold")
    conn.execute(f"CREATE TABLE gold.{FACT} AS SELECT 20261120 + range % 2 AS date_id, range AS movie_id, range * 1.5 AS popularity FROM range(6)")
    conn.execute("CREATE TABLE gold.dim_genre AS SELECT range AS genre_id, 'g' || range AS genre_name FROM range(3)")
    yield conn
    conn.close()


def fingerprints(conn: duckdb.DuckDBPyConnection, keys: Keys | None = None) -> dict:
    return content_fingerprints(conn, served_tables(conn, None), keys or Keys())


def test_a_fingerprint_changes_with_any_value_and_the_definition_but_not_with_row_order(snapshot):
    before = fingerprints(snapshot)
    assert set(before) == {(FACT, 20261120), (FACT, 20261121), ("dim_genre", None)}
    snapshot.execute("CREATE TABLE gold.shuffled AS SELECT * FROM gold.dim_genre ORDER BY genre_id DESC")
    snapshot.execute("DROP TABLE gold.dim_genre")
    snapshot.execute("ALTER TABLE gold.shuffled RENAME TO dim_genre")
    assert fingerprints(snapshot) == before
    snapshot.execute(f"UPDATE gold.{FACT} SET popularity = popularity + 1 WHERE movie_id = 3")
    changed = fingerprints(snapshot)
    assert changed[(FACT, 20261121)] != before[(FACT, 20261121)]
    assert changed[(FACT, 20261120)] == before[(FACT, 20261120)] and changed[("dim_genre", None)] == before[("dim_genre", None)]
    commented = fingerprints(snapshot, Keys(table_comments={"dim_genre": "Genres."}))
    assert commented[("dim_genre", None)] != changed[("dim_genre", None)]


def test_rows_without_a_day_are_refused_naming_the_table(snapshot):
    snapshot.execute(f"INSERT INTO gold.{FACT} VALUES (NULL, 99, 1.0)")
    with pytest.raises(PostgresPublicationError, match=f"gold.{FACT} has 1 rows without a date_id"):
        fingerprints(snapshot)


def test_the_plan_keeps_what_is_unchanged_outside_the_window():
    current = {(FACT, 1): "a", (FACT, 2): "b", (FACT, 3): "c", (CHANGES, 1): "x", ("dim_movie", None): "m", ("dim_genre", None): "g"}
    previous = {(FACT, 1): "a", (FACT, 2): "b-old", (FACT, 3): "c", (CHANGES, 1): "x", ("dim_movie", None): "m-old", ("dim_genre", None): "g"}
    plan = plan_publication(current, previous, window_ids={3})
    assert plan.kept_tables == ["dim_genre"]
    assert plan.kept_days == {FACT: [1], CHANGES: [1]}
    assert plan.load_days == {FACT: [2, 3], CHANGES: []}


def test_without_a_window_or_a_previous_publication_everything_loads():
    current = {(FACT, 1): "a", ("dim_genre", None): "g"}
    for previous, window in [(dict(current), None), ({}, {2})]:
        plan = plan_publication(current, previous, window)
        assert plan.kept_tables == [] and plan.kept_days == {FACT: []} and plan.load_days == {FACT: [1]}
