"""Write-audit-publish on real files: snapshots, the readers' link, retention, a reader that
holds the old snapshot open, kills during publish and during a lake write, a warehouse
file from before published snapshots, the snapshot's storage version, and a previous snapshot
whose ``meta.publication`` predates a column.

These use small build files made here, so each publish takes a fraction of a second; the
pipeline-level behaviour (a failing blocking check publishes nothing) is in test_storage_tiers.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from movie_assets.serving.publish import current_snapshot, publish_snapshot
from movie_assets.warehouse.lake import Lake
from movie_assets.warehouse.legacy_upgrade import adopt_plain_warehouse


def make_build(path: Path, movies: int) -> Path:
    """A build file with a silver table, a gold table and a gold view of ``movies`` rows."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS silver; CREATE SCHEMA IF NOT EXISTS gold")
        conn.execute("CREATE OR REPLACE TABLE silver.tmdb_movies AS SELECT range AS movie_id FROM range(?)", [movies])
        conn.execute("CREATE OR REPLACE TABLE gold.dim_movie AS SELECT movie_id, movie_id * 2 AS revenue_usd FROM silver.tmdb_movies")
        conn.execute("CREATE OR REPLACE VIEW gold.vw_top AS SELECT * FROM gold.dim_movie ORDER BY revenue_usd DESC LIMIT 3")
    return path


def publish(root: Path, run_id: str, keep: int = 3, movies: int = 10, **options):
    lake = Lake(root / "lake")
    lake.write_partition("tmdb_dead_letter", "2026-11-20", pa.table({"source": ["ids-file"], "reason": ["blank"], "attempts": [0]}))
    return publish_snapshot(
        build_path=make_build(root / "build.duckdb", movies),
        lake=lake,
        serving_dir=root / "serving",
        readers_path=root / "warehouse.duckdb",
        keep=keep,
        run_id=run_id,
        partition_date="2026-11-20",
        tmdb_source="snapshot",
        **options,
    )


def storage_tag(path: Path) -> str:
    """The storage version DuckDB tags the file with, e.g. ``v1.0.0+``."""
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]


def publications(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute("SELECT run_id, snapshot_file, previous_snapshot FROM meta.publication ORDER BY published_at").fetchall()


def test_publish_makes_a_read_only_snapshot_the_readers_path_names(tmp_path: Path):
    first = publish(tmp_path, "run-one")
    readers = tmp_path / "warehouse.duckdb"
    assert readers.is_symlink() and readers.resolve() == first.snapshot
    assert oct(first.snapshot.stat().st_mode & 0o777) == "0o444"
    with duckdb.connect(str(readers), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone()[0] == 10
        # The view is materialized: the snapshot must not depend on the build file.
        assert conn.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'vw_top'").fetchone()[0] == "BASE TABLE"
        assert conn.execute("SELECT count(*) FROM bronze.tmdb_dead_letter").fetchone()[0] == 1
        row = conn.execute("SELECT run_id, partition_date::VARCHAR, tmdb_source, row_counts FROM meta.publication").fetchone()
    assert row[:3] == ("run-one", "2026-11-20", "snapshot")
    assert '"gold.dim_movie": 10' in row[3]
    assert first.previous is None


def test_a_held_reader_keeps_the_old_snapshot_and_a_new_one_sees_the_new_run(tmp_path: Path):
    first = publish(tmp_path, "run-one", movies=10)
    readers = tmp_path / "warehouse.duckdb"
    held = duckdb.connect(str(readers), read_only=True)
    try:
        second = publish(tmp_path, "run-two", movies=20)
        assert second.previous == first.snapshot.name
        assert held.execute("SELECT run_id FROM meta.publication").fetchall() == [("run-one",)]
        assert held.execute("SELECT count(*) FROM gold.dim_movie").fetchone()[0] == 10
    finally:
        held.close()
    assert [run for run, _, _ in publications(readers)] == ["run-one", "run-two"]
    assert publications(readers)[-1][2] == first.snapshot.name


def test_retention_keeps_exactly_the_newest_snapshots(tmp_path: Path):
    names = [publish(tmp_path, f"run-{n}", keep=2).snapshot.name for n in range(4)]
    kept = sorted(path.name for path in (tmp_path / "serving").glob("warehouse-*.duckdb"))
    assert kept == names[-2:]
    assert (tmp_path / "warehouse.duckdb").resolve().name == names[-1]
    assert not list((tmp_path / "serving").glob(".*.tmp"))


KILL_DURING_PUBLISH = """
import sys
from pathlib import Path
import pyarrow as pa
from movie_assets.serving.publish import publish_snapshot
from movie_assets.warehouse.lake import Lake
root = Path(sys.argv[1])
print("ready", flush=True)
for n in range(1000):
    publish_snapshot(root / "build.duckdb", Lake(root / "lake"), root / "serving", root / "warehouse.duckdb", 2,
                     f"loop-{n}", "2026-11-20", "snapshot")
"""


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45, 0.8])
def test_sigkill_during_publish_leaves_the_path_naming_a_complete_snapshot(tmp_path: Path, delay: float):
    publish(tmp_path, "before", movies=50_000)
    child = subprocess.Popen([sys.executable, "-c", KILL_DURING_PUBLISH, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    snapshot = current_snapshot(tmp_path / "warehouse.duckdb")
    assert snapshot is not None and snapshot.is_file()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone()[0] == 50_000
        runs = [row[0] for row in conn.execute("SELECT run_id FROM meta.publication").fetchall()]
    assert runs[0] == "before"
    # A publish after the kill works and cleans nothing it should keep.
    again = publish(tmp_path, "after", movies=50_000)
    assert (tmp_path / "warehouse.duckdb").resolve() == again.snapshot
    assert not list((tmp_path / "serving").glob(".*.tmp"))


KILL_DURING_LAKE_WRITE = """
import sys
from pathlib import Path
import pyarrow as pa
from movie_assets.warehouse.lake import Lake
lake = Lake(Path(sys.argv[1]))
rows = pa.table({"movie_id": pa.array(range(2_000_000), pa.int64()), "payload": pa.array(["x" * 20] * 2_000_000)})
print("ready", flush=True)
while True:
    lake.write_partition("tmdb_movies", "2026-11-20", rows)
"""


@pytest.mark.parametrize("delay", [0.1, 0.5, 1.0])
def test_sigkill_during_a_lake_write_leaves_the_old_or_the_new_partition(tmp_path: Path, delay: float):
    lake = Lake(tmp_path)
    lake.write_partition("tmdb_movies", "2026-11-20", pa.table({"movie_id": pa.array([1, 2, 3], pa.int64()), "payload": ["a", "b", "c"]}))
    child = subprocess.Popen([sys.executable, "-c", KILL_DURING_LAKE_WRITE, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with duckdb.connect() as conn:
        count = conn.execute(f"SELECT count(*) FROM {lake.scan('tmdb_movies')}").fetchone()[0]
    assert count in (3, 2_000_000)
    lake.write_partition("tmdb_movies", "2026-11-20", pa.table({"movie_id": pa.array([4], pa.int64()), "payload": ["d"]}))
    # The next write replaces the slice whole and clears what the killed writer left.
    assert [path.name for path in lake.partition_file("tmdb_movies", "2026-11-20").parent.iterdir()] == ["data.parquet"]


def test_a_plain_warehouse_file_from_before_is_moved_to_the_build_path(tmp_path: Path):
    readers, build = tmp_path / "warehouse.duckdb", tmp_path / "build" / "warehouse.duckdb"
    make_build(readers, 5)
    messages: list[str] = []
    assert adopt_plain_warehouse(readers, build, messages.append)
    assert not readers.exists() and build.is_file()
    assert "moved it to the build path" in messages[0]
    with duckdb.connect(str(build), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone()[0] == 5
    assert not adopt_plain_warehouse(readers, build, messages.append)


def test_the_snapshot_is_written_in_the_declared_storage_version_and_the_build_is_not(tmp_path: Path):
    compatible = publish(tmp_path, "run-compatible", storage_version="v1.1.0")
    # DuckDB 1.1 writes the storage format DuckDB 1.0 introduced, and tags it so.
    assert compatible.storage_version == storage_tag(compatible.snapshot) == "v1.0.0+"
    build_version = storage_tag(tmp_path / "build.duckdb")
    assert build_version != "v1.0.0+"
    with duckdb.connect(str(compatible.snapshot), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone()[0] == 10
        assert conn.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'vw_top'").fetchone()[0] == "BASE TABLE"
        assert conn.execute("SELECT storage_version FROM meta.publication").fetchall() == [("v1.0.0+",)]
    assert not list((tmp_path / "serving").glob(".*"))
    # latest: a byte copy of the build, in the build file's own format.
    newest = publish(tmp_path, "run-newest", storage_version="latest")
    assert newest.storage_version == storage_tag(newest.snapshot) == build_version
    with duckdb.connect(str(newest.snapshot), read_only=True) as conn:
        assert conn.execute("SELECT run_id, storage_version FROM meta.publication ORDER BY published_at").fetchall() == [
            ("run-compatible", "v1.0.0+"),
            ("run-newest", build_version),
        ]


def test_a_storage_version_duckdb_does_not_know_publishes_nothing(tmp_path: Path):
    first = publish(tmp_path, "run-one")
    with pytest.raises(duckdb.InvalidInputException, match="v0.0.0-bogus"):
        publish(tmp_path, "run-two", storage_version="v0.0.0-bogus")
    assert (tmp_path / "warehouse.duckdb").resolve() == first.snapshot
    assert sorted(path.name for path in (tmp_path / "serving").iterdir()) == [first.snapshot.name]


def test_a_previous_snapshot_without_the_storage_version_column_keeps_its_rows(tmp_path: Path):
    # A snapshot published before meta.publication had storage_version.
    old = tmp_path / "serving" / "warehouse-20261119T060000000000Z-oldrun00.duckdb"
    old.parent.mkdir(parents=True)
    with duckdb.connect(str(old)) as conn:
        conn.execute("CREATE SCHEMA meta")
        conn.execute(
            "CREATE TABLE meta.publication (run_id VARCHAR NOT NULL, partition_date DATE, published_at TIMESTAMPTZ NOT NULL, "
            "tmdb_source VARCHAR, row_counts JSON NOT NULL, snapshot_file VARCHAR NOT NULL, previous_snapshot VARCHAR)"
        )
        conn.execute(
            "INSERT INTO meta.publication VALUES ('old-run', '2026-11-19', '2026-11-19 06:00:00+00', 'snapshot', '{}', ?, NULL)",
            [old.name],
        )
    (tmp_path / "warehouse.duckdb").symlink_to(f"serving/{old.name}")
    new = publish(tmp_path, "new-run")
    assert new.previous == old.name
    with duckdb.connect(str(new.snapshot), read_only=True) as conn:
        rows = conn.execute("SELECT run_id, snapshot_file, storage_version FROM meta.publication ORDER BY published_at").fetchall()
    assert rows == [("old-run", old.name, None), ("new-run", new.snapshot.name, "v1.0.0+")]
