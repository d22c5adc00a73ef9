"""The instance of scripts/dagster.yaml: its event log keeps connections open and still records
every event where Dagster's default storage would, readable by another instance."""

import shutil
import threading
from pathlib import Path

import pytest
from dagster import AssetCheckResult, DagsterEventType, DagsterInstance, asset, asset_check, materialize

from movie_assets.automation.event_log_storage import KeptOpenSqliteEventLogStorage
from movie_assets.settings import REPO_ROOT


@asset
def numbers() -> list[int]:
    return [1, 2, 3]


@asset_check(asset=numbers)
def numbers_not_empty() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "scripts" / "dagster.yaml", home / "dagster.yaml")
    # A process may open an instance by its folder without $DAGSTER_HOME (tests, scripts).
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return home


def test_events_land_in_the_default_folder_and_another_instance_reads_them(home: Path):
    with DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, KeptOpenSqliteEventLogStorage)
        result = materialize([numbers, numbers_not_empty], instance=instance)
        assert result.success
        with storage.index_connection() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL

    assert (home / "history" / "runs" / f"{result.run_id}.db").exists()
    assert (home / "history" / "runs" / "index.db").exists()
    with DagsterInstance.from_config(str(home)) as reader:
        assert len(reader.all_logs(result.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)) == 1
        assert reader.get_latest_materialization_event(numbers.key).run_id == result.run_id


def test_a_reader_sees_each_event_while_the_writer_keeps_its_connection_open(home: Path):
    with DagsterInstance.from_config(str(home)) as writer, DagsterInstance.from_config(str(home)) as reader:
        first = materialize([numbers], instance=writer)
        second = materialize([numbers], instance=writer)
        assert reader.get_latest_materialization_event(numbers.key).run_id == second.run_id
        assert {first.run_id, second.run_id} <= {run.run_id for run in reader.get_runs()}


def test_a_watcher_in_another_instance_is_told_of_each_new_event(home: Path):
    """The UI follows a run in flight through ``watch``: it must hear of events written by a
    process whose connection stays open (SQLite's WAL leaves the ``.db`` file unchanged until a
    checkpoint, so a watcher of that file would not)."""
    with DagsterInstance.from_config(str(home)) as writer, DagsterInstance.from_config(str(home)) as reader:
        run = writer.get_run_by_id(materialize([numbers], instance=writer).run_id)
        cursor = reader.get_records_for_run(run.run_id).cursor
        heard: list[str] = []
        arrived = threading.Event()

        def callback(entry, _cursor):
            heard.append(entry.dagster_event.message)
            arrived.set()

        reader.event_log_storage.watch(run.run_id, cursor, callback)
        try:
            writer.report_engine_event("still running", run)
            assert arrived.wait(timeout=10), "the watcher heard of no event in 10 s"
        finally:
            reader.event_log_storage.end_watch(run.run_id, callback)
        assert heard == ["still running"]
