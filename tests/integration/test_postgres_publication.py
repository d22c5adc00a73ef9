"""The PostgreSQL publication (``serving/postgres_publication``) against a real PostgreSQL
server (:func:`conftest.postgres_server`) and the session's real sample run: what readers
see equals the DuckDB snapshot, readers never see a half-published schema, the reader role
is read-only, a gate keeps PostgreSQL as it was, a killed load changes nothing, and a daily
run re-attaches the days it does not load."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance

from conftest import DAY, PostgresServer, SampleRun, copy_run
from graph import LATER_FILE, TMDB_CHAIN, run_selection
from movie_assets.acceptance import ACCEPT_TAG
from movie_assets.serving.postgres import DAY_PARTITIONED, FACT_TABLE, READER_ROLE, STATE_SCHEMA, STATE_TABLE, publish_postgres, served_tables
from movie_assets.settings import REPO_ROOT
from movie_assets.tmdb.resources import SnapshotTMDBResource, build_tmdb_resource

LOADER = "movies_loader"
DAY_1_ID = 20261120
DAY_2 = "2026-11-21"
DAY_2_ID = 20261121
PUBLISH = AssetKey(["serving", "warehouse_snapshot"])
PG_PUBLISH = AssetKey(["serving", "postgres_publication"])
READER_JOIN = (
    "SELECT count(*) FROM gold.dim_movie m JOIN gold.fact_movie_daily f ON f.movie_id = m.movie_id JOIN gold.dim_date d ON d.date_id = f.date_id"
)


@pytest.fixture
def database(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A new database owned by the loader role (which may create roles, as ``make up``'s
    loader may); its URL as the loader."""
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [LOADER]).fetchone() is None:
            conn.execute(f"CREATE ROLE {LOADER} LOGIN CREATEROLE")
    return postgres_server.create_database(f"movies_{request.node.name[:40].lower().replace('[', '_').replace(']', '')}", LOADER)


def as_role(url: str, role: str) -> str:
    return url.replace(f"//{LOADER}@", f"//{role}@")


def snapshot_of(run: SampleRun) -> Path:
    return run.settings.duckdb_path.resolve()


def two_day_snapshot(run: SampleRun, destination: Path) -> Path:
    """A copy of the sample snapshot whose fact also holds day 2 (day 1's rows under 2026-11-21),
    so a publication of it doubles the fact's count."""
    shutil.copyfile(snapshot_of(run), destination)
    destination.chmod(0o644)
    with duckdb.connect(str(destination)) as conn:
        conn.execute(f"INSERT INTO gold.{FACT_TABLE} SELECT * REPLACE ({DAY_2_ID} AS date_id) FROM gold.{FACT_TABLE} WHERE date_id = {DAY_1_ID}")
    return destination


def _checksum_expressions(columns: list[tuple[str, str]], engine: str) -> list[str]:
    """One aggregate a column whose value is the same in DuckDB and PostgreSQL when the
    column holds the same values: exact sums of integers and decimals, sums of floats
    (compared with a relative tolerance), an md5 of the sorted text of text, dates and
    booleans, the total length of lists, epoch sums of timestamps."""
    out = []
    for name, data_type in columns:
        column = f'"{name}"'
        kind = data_type.upper()
        if kind.endswith("[]"):
            out.append(f"sum(len({column}))" if engine == "duckdb" else f"sum(cardinality({column}))")
        elif kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT") or kind.startswith("DECIMAL"):
            out.append(f"CAST(sum({column}) AS VARCHAR)" if engine == "duckdb" else f"CAST(sum({column}) AS TEXT)")
        elif kind in ("DOUBLE", "FLOAT"):
            out.append(f"sum({column})")
        elif kind == "TIMESTAMP WITH TIME ZONE":
            out.append(f"sum(epoch({column}))" if engine == "duckdb" else f"sum(extract(epoch FROM {column}))::float8")
        elif kind in ("VARCHAR", "DATE", "BOOLEAN"):
            order = "" if engine == "duckdb" else ' COLLATE "C"'
            text = f"CAST({column} AS VARCHAR)" if engine == "duckdb" else f"CAST({column} AS TEXT)"
            out.append(f"md5(coalesce(string_agg({text}, '|' ORDER BY {text}{order}), ''))")
        else:
            out.append(f"count({column})")
    return out


def table_checksums(snapshot: Path, url: str, window: list[date] | None = None) -> tuple[dict, dict]:
    """``schema.table`` → (row count, per-column checksums) in the snapshot and in PostgreSQL,
    for every table a publication with ``window`` serves."""
    duck, pg = {}, {}
    with duckdb.connect(str(snapshot), read_only=True) as source, psycopg.connect(url) as conn:
        for table in served_tables(source, window):
            name = f'{table.schema}."{table.name}"'
            rows = f" WHERE {table.where}" if table.where else ""
            duck[f"{table.schema}.{table.name}"] = source.execute(
                f"SELECT count(*), {', '.join(_checksum_expressions(table.columns, 'duckdb'))} FROM {name}{rows}"
            ).fetchall()[0]
            pg[f"{table.schema}.{table.name}"] = conn.execute(
                f"SELECT count(*), {', '.join(_checksum_expressions(table.columns, 'postgres'))} FROM {name}"
            ).fetchone()
    return duck, pg


def assert_same(duck: dict, pg: dict) -> None:
    assert sorted(duck) == sorted(pg)
    for table, expected in duck.items():
        got = pg[table]
        for position, (want, have) in enumerate(zip(expected, got, strict=True)):
            if isinstance(want, float) or isinstance(have, float):
                assert have is not None and math.isclose(float(want), float(have), rel_tol=1e-9, abs_tol=1e-6), (table, position, want, have)
            else:
                assert str(want) == str(have) if want is not None else have is None, (table, position, want, have)


def fact_partitions(url: str) -> dict[str, tuple[int, int]]:
    """Partition name → (relfilenode, rows) of the published fact."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relfilenode FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'gold.fact_movie_daily'::regclass ORDER BY 1"
        ).fetchall()
        return {name: (node, conn.execute(f'SELECT count(*) FROM gold."{name}"').fetchone()[0]) for name, node in rows}


def test_every_published_table_equals_the_snapshot(sample_run: SampleRun, dbt_manifest: Path, database: str):
    snapshot = snapshot_of(sample_run)
    publication = publish_postgres(snapshot, database, dbt_manifest, None)
    duck, pg = table_checksums(snapshot, database)
    assert_same(duck, pg)
    assert {
        "gold.fact_movie_daily",
        "gold.dim_movie",
        "gold.vw_movie_latest",
        "gold.vw_genre_popularity",
        "gold.vw_top_movies",
        "bronze.tmdb_dead_letter",
        "meta.publication",
    } <= set(pg)
    assert publication.row_counts == {table: counts[0] for table, counts in pg.items()}
    with psycopg.connect(database) as conn:
        types = dict(
            conn.execute("SELECT table_name || '.' || column_name, data_type FROM information_schema.columns WHERE table_schema = 'gold'").fetchall()
        )
        keys = {
            row[0]
            for row in conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'gold.fact_movie_daily'::regclass"
            ).fetchall()
        }
        partitioned = conn.execute("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'gold.fact_movie_daily'::regclass").fetchone()
        comment = conn.execute("SELECT col_description('gold.fact_movie_daily'::regclass, 1)").fetchone()[0]
        # Published tables are never written again: autovacuum stays off them, so its workers
        # never hold the locks the next swap needs.
        options = conn.execute(
            "SELECT reloptions FROM pg_class WHERE oid IN ('gold.dim_movie'::regclass, %s::regclass)", [f"gold.fact_movie_daily_p{DAY_1_ID}"]
        ).fetchall()
    assert types["fact_movie_daily.date_id"] == "integer" and types["fact_movie_daily.movie_id"] == "bigint"
    assert types["dim_movie.release_date"] == "date" and types["dim_movie.budget_usd"] == "bigint"
    assert types["fact_movie_daily.popularity"] == "double precision"
    assert {
        "PRIMARY KEY (date_id, movie_id)",
        "FOREIGN KEY (movie_id) REFERENCES gold.dim_movie(movie_id)",
        "FOREIGN KEY (date_id) REFERENCES gold.dim_date(date_id)",
    } <= keys
    assert partitioned == ("l",)
    assert len(options) == 2 and all("autovacuum_enabled=false" in (reloptions or []) for (reloptions,) in options)
    assert comment == "Snapshot day as yyyymmdd (key to gold.dim_date)."
    assert list(fact_partitions(database)) == [f"fact_movie_daily_p{DAY_1_ID}"]


def test_readers_see_the_old_or_the_new_publication_never_a_mix(sample_run: SampleRun, dbt_manifest: Path, database: str, tmp_path: Path):
    one_day = snapshot_of(sample_run)
    two_days = two_day_snapshot(sample_run, tmp_path / "two_days.duckdb")
    publish_postgres(one_day, database, dbt_manifest, None)
    reader_url = as_role(database, READER_ROLE)
    with psycopg.connect(reader_url) as conn:
        old = conn.execute("SELECT count(*) FROM gold.fact_movie_daily").fetchone()[0], conn.execute(READER_JOIN).fetchone()[0]
    new = (2 * old[0], 2 * old[1])
    seen, errors, stop = set(), [], threading.Event()

    def read() -> None:
        with psycopg.connect(reader_url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.add((conn.execute("SELECT count(*) FROM gold.fact_movie_daily").fetchone()[0], "fact"))
                    seen.add((conn.execute(READER_JOIN).fetchone()[0], "join"))
                except psycopg.Error as error:
                    errors.append(f"{type(error).__name__}: {error}")

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        # Full loads and daily loads (day 1 re-attached, day 2 loaded or dropped) in turn.
        for snapshot, window in [
            (two_days, [date(2026, 11, 21)]),
            (one_day, None),
            (two_days, None),
            (one_day, [date(2026, 11, 20)]),
            (two_days, [date(2026, 11, 21)]),
        ]:
            publish_postgres(snapshot, database, dbt_manifest, window)
            time.sleep(0.3)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert errors == []
    assert {count for count, kind in seen if kind == "fact"} == {old[0], new[0]}
    assert {count for count, kind in seen if kind == "join"} == {old[1], new[1]}


def test_the_reader_role_may_only_read_the_published_schemas(
    sample_run: SampleRun, dbt_manifest: Path, database: str, postgres_server: PostgresServer
):
    password = "reader-pw-7c1e9"
    publish_postgres(snapshot_of(sample_run), database, dbt_manifest, None, reader_password=password)
    with psycopg.connect(database, autocommit=True) as loader:
        loader.execute("CREATE SCHEMA gold__staging")
        loader.execute("CREATE TABLE gold__staging.dim_genre AS SELECT * FROM gold.dim_genre")
    with psycopg.connect(as_role(database, READER_ROLE), autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM gold.dim_genre").fetchone()[0] > 0
        assert reader.execute("SELECT count(*) FROM meta.publication").fetchone()[0] == 1
        for statement in [
            "INSERT INTO gold.dim_genre (genre_id, genre_name) VALUES (-1, 'x')",
            "DELETE FROM gold.dim_genre",
            "DROP TABLE gold.dim_genre",
            "DROP SCHEMA gold CASCADE",
            "CREATE TABLE gold.mine (id int)",
            "CREATE TABLE public.mine (id int)",
            "CREATE SCHEMA mine",
            "CREATE TEMP TABLE mine (id int)",
            "SELECT count(*) FROM gold__staging.dim_genre",
            f"SELECT count(*) FROM {STATE_SCHEMA}.{STATE_TABLE}",
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
    with psycopg.connect(postgres_server.url(database.rsplit("/", 1)[1])) as admin:
        verifier = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [READER_ROLE]).fetchone()[0]
        publication = json.dumps(admin.execute("SELECT to_jsonb(p) FROM meta.publication p").fetchall())
    assert verifier.startswith("SCRAM-SHA-256$") and password not in verifier
    assert password not in publication
    assert password not in (postgres_server.data_dir.parent / "postgres.log").read_text(errors="replace")


def test_a_killed_load_leaves_the_old_schema_and_the_rerun_succeeds(
    sample_run: SampleRun, dbt_manifest: Path, database: str, postgres_server: PostgresServer, tmp_path: Path
):
    one_day = snapshot_of(sample_run)
    publish_postgres(one_day, database, dbt_manifest, None)
    before = table_checksums(one_day, database)[1]
    two_days = two_day_snapshot(sample_run, tmp_path / "two_days.duckdb")
    name = database.rsplit("/", 1)[1]
    code = (
        "import sys; from pathlib import Path; from movie_assets.serving.postgres import publish_postgres; "
        "publish_postgres(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), None)"
    )
    load = subprocess.Popen([sys.executable, "-c", code, str(two_days), database, str(dbt_manifest)], cwd=REPO_ROOT)
    killed = False
    with psycopg.connect(postgres_server.url(name), autocommit=True) as admin:
        deadline = time.monotonic() + 120
        while load.poll() is None and time.monotonic() < deadline:
            copying = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY %%' AND state = 'active'", [name]
            ).fetchone()[0]
            if copying:
                os.kill(load.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.005)
    load.wait(timeout=60)
    assert killed, "the load finished before it could be killed"
    assert table_checksums(one_day, database)[1] == before
    with psycopg.connect(as_role(database, READER_ROLE)) as reader:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("SELECT count(*) FROM gold__staging.dim_movie")
    publish_postgres(two_days, database, dbt_manifest, None)
    duck, pg = table_checksums(two_days, database)
    assert_same(duck, pg)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%%\\_\\_staging' OR nspname LIKE '%%\\_\\_old'").fetchone()[0] == 0


def storage(url: str, relations: list[str]) -> dict[str, int]:
    """Relation (``schema.name``) → its relfilenode: a kept table keeps it, a reloaded one gets a new one."""
    with psycopg.connect(url) as conn:
        return {
            relation: conn.execute("SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", [relation]).fetchone()[0] for relation in relations
        }


def foreign_keys(url: str, relation: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {
            row[0]
            for row in conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [relation])
        }


def test_a_daily_publication_keeps_what_did_not_change_and_reloads_what_did(sample_run: SampleRun, dbt_manifest: Path, database: str, tmp_path: Path):
    one_day = snapshot_of(sample_run)
    publish_postgres(one_day, database, dbt_manifest, None)
    day_1 = f"gold.fact_movie_daily_p{DAY_1_ID}"
    relations = ["gold.dim_movie", "gold.dim_date", "gold.bridge_movie_genre", day_1]
    first = storage(database, relations)

    two_days = two_day_snapshot(sample_run, tmp_path / "two_days.duckdb")
    window = [date.fromisoformat(DAY_2)]
    daily = publish_postgres(two_days, database, dbt_manifest, window)
    with duckdb.connect(str(two_days), read_only=True) as conn:
        gold = {table.name for table in served_tables(conn, window) if table.schema == "gold"}
    assert daily.kept_tables == sorted(gold - set(DAY_PARTITIONED))
    assert daily.loaded_days == [DAY_2_ID] and daily.reused_days == [DAY_1_ID]
    assert storage(database, relations) == first
    assert_same(*table_checksums(two_days, database, window))

    # One movie's title changes: dim_movie (and what is built on it) is reloaded, both fact days
    # are kept, and the kept days' foreign key now points at the new dim_movie.
    retitled = tmp_path / "retitled.duckdb"
    shutil.copyfile(two_days, retitled)
    with duckdb.connect(str(retitled)) as conn:
        conn.execute("UPDATE gold.dim_movie SET title = title || ' (restored)' WHERE movie_id = (SELECT min(movie_id) FROM gold.dim_movie)")
    again = publish_postgres(retitled, database, dbt_manifest, window)
    assert "dim_movie" not in again.kept_tables and {"dim_date", "bridge_movie_genre"} <= set(again.kept_tables)
    assert again.reused_days == [DAY_1_ID] and again.loaded_days == [DAY_2_ID]
    after = storage(database, relations)
    assert after["gold.dim_movie"] != first["gold.dim_movie"]
    assert {relation: after[relation] for relation in relations[1:]} == {relation: first[relation] for relation in relations[1:]}
    # The kept day's key to the new dim_movie was added before the swap (named after the
    # partition) and attached to the new fact's key, not created by the attach.
    with psycopg.connect(database) as conn:
        day_1_keys = conn.execute(
            "SELECT conname, conparentid <> 0 FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
            "AND confrelid = 'gold.dim_movie'::regclass",
            [day_1],
        ).fetchall()
    assert len(day_1_keys) == 1 and day_1_keys[0][1] and day_1_keys[0][0].startswith(f"fact_movie_daily_p{DAY_1_ID}_movie_id_fkey")
    for relation in (day_1, "gold.bridge_movie_genre"):
        assert "FOREIGN KEY (movie_id) REFERENCES gold.dim_movie(movie_id)" in foreign_keys(database, relation)
    assert {"FOREIGN KEY (movie_id) REFERENCES gold.dim_movie(movie_id)", "FOREIGN KEY (date_id) REFERENCES gold.dim_date(date_id)"} <= (
        foreign_keys(database, "gold.fact_movie_daily")
    )
    assert_same(*table_checksums(retitled, database, window))
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%%\\_\\_staging' OR nspname LIKE '%%\\_\\_old'").fetchone()[0] == 0


def later_snapshot_only(run_settings) -> SnapshotTMDBResource:
    """The July 2017 observation served alone: most ids answer 404, the volume gate stops the day."""
    resource = build_tmdb_resource(run_settings)
    return SnapshotTMDBResource(**{**resource.model_dump(), "movies_file": LATER_FILE})


def test_a_gate_keeps_postgres_as_it_was_and_day_2_appends_its_partition(
    sample_run: SampleRun, dbt_manifest: Path, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = copy_run(sample_run, tmp_path / "run")
    publish_postgres(snapshot_of(sample_run), database, dbt_manifest, [date.fromisoformat(DAY)])
    monkeypatch.setenv("MOVIES_SERVING_PG_URL", database)
    with psycopg.connect(database) as conn:
        publications = conn.execute("SELECT run_id FROM meta.publication ORDER BY published_at").fetchall()
    partitions = fact_partitions(database)
    before = table_checksums(snapshot_of(sample_run), database)[1]
    graph = TMDB_CHAIN | AssetSelection.assets(PUBLISH, PG_PUBLISH)
    tmdb = later_snapshot_only(settings)

    blocked = run_selection(settings, graph, partition_key=DAY_2, resources={"tmdb": tmdb}, raise_on_error=False)
    assert not blocked.success
    assert not [event for event in blocked.get_asset_materialization_events() if event.asset_key in (PUBLISH, PG_PUBLISH)]
    assert table_checksums(snapshot_of(sample_run), database)[1] == before
    assert fact_partitions(database) == partitions

    accepted = run_selection(
        settings, graph, partition_key=DAY_2, resources={"tmdb": tmdb}, tags={ACCEPT_TAG: "tmdb_landed_volume"}, raise_on_error=False
    )
    assert accepted.success
    materialized = [event for event in accepted.get_asset_materialization_events() if event.asset_key == PG_PUBLISH]
    assert len(materialized) == 1
    metadata = materialized[0].materialization.metadata
    assert metadata["loaded_days"].value == [DAY_2_ID] and metadata["kept_days"].value == 1
    after = fact_partitions(database)
    assert after[f"fact_movie_daily_p{DAY_1_ID}"] == partitions[f"fact_movie_daily_p{DAY_1_ID}"]
    assert after[f"fact_movie_daily_p{DAY_2_ID}"][1] > 0
    snapshot = settings.duckdb_path.resolve()
    assert_same(*table_checksums(snapshot, database, [date.fromisoformat(DAY_2)]))
    with psycopg.connect(database) as conn:
        runs = conn.execute("SELECT run_id FROM meta.publication ORDER BY published_at").fetchall()
        letters = conn.execute("SELECT DISTINCT partition_date FROM bronze.tmdb_dead_letter").fetchall()
    assert runs[: len(publications)] == publications and runs[-1][0] == accepted.run_id
    # The sample run's dead letters are day 1's: only the run's own day is published.
    assert set(letters) <= {(date.fromisoformat(DAY_2),)}


def test_without_a_database_the_asset_is_skipped_in_one_line(sample_run: SampleRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MOVIES_SERVING_PG_URL", raising=False)
    settings = copy_run(sample_run, tmp_path / "run")
    with DagsterInstance.ephemeral() as instance:
        result = run_selection(settings, AssetSelection.assets(PG_PUBLISH), instance=instance, raise_on_error=False)
        lines = [entry.user_message for entry in instance.all_logs(result.run_id) if "MOVIES_SERVING_PG_URL" in entry.user_message]
    assert result.success
    assert not result.get_asset_materialization_events()
    assert lines == ["MOVIES_SERVING_PG_URL is unset: not publishing to PostgreSQL"]
