"""Dagster's SQLite event log without a disk sync and a new connection per event.

A daily run stores about 1,000 events (a planned event, an output and an evaluation per dbt
test, a materialization per model), most of them written twice (the run's database and the
cross-run index). Dagster's ``SqliteEventLogStorage`` opens a new connection for every write and
closes it after the commit: in WAL mode the commit syncs the log to disk, and the close of the
last connection checkpoints the log into the database and syncs again. Measured on this machine
that is 16 ms per write against 0.1 ms on a connection kept open with ``synchronous=NORMAL``,
and 20-30 s of a sample run on a loaded machine (bench/README.md, "Run overhead").

:class:`KeptOpenSqliteEventLogStorage` is that storage, same files, same schema, with the one
change of where connections come from: one engine per database file, its connections kept
open, each opened with ``PRAGMA synchronous=NORMAL``. SQLite's documentation for WAL mode:
a database with ``synchronous=NORMAL`` stays consistent; a power loss or OS crash (not a
process crash) may lose the last transactions, i.e. the last events of a run in flight.

Dagster's SQLite storage tells a watcher (the UI following a run in flight) of new events when
the run's ``.db`` file changes on disk. With the writer's connection kept open, WAL mode keeps
new events in the ``-wal`` file until a checkpoint, so that file may not change for a whole
run; the watchers here poll the event log instead (Dagster's ``SqlPollingEventWatcher``, the
watcher of its Postgres and MySQL storages).

``scripts/dagster.yaml`` configures it::

    event_log_storage:
      module: movie_assets.automation.event_log_storage
      class: KeptOpenSqliteEventLogStorage
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster import DagsterInstance
from dagster._core.storage.event_log import SqliteEventLogStorage, SqlPollingEventWatcher
from dagster._core.storage.event_log.base import EventHandlerFn
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS, create_db_conn_string
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

# The index shard and the runs being written or read at a time; a process reading many runs
# (the UI) closes the connections of the least recently used ones.
OPEN_DATABASES = 8


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` over ``<instance folder>/history/runs`` (where the default
    instance keeps its event log), with connections kept open per database file and
    ``synchronous=NORMAL``.

    It takes no configuration: the folder comes from the instance it is registered with
    (``DagsterInstance.root_directory``), so any process opening the instance by its path
    finds the same files, ``$DAGSTER_HOME`` set or not.

    Args:
        inst_data: Dagster's record of the configuration (set when loaded from ``dagster.yaml``).
    """

    def __init__(self, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._pending_inst_data = inst_data
        self._event_watcher: SqlPollingEventWatcher | None = None

    def register_instance(self, instance: DagsterInstance) -> None:
        # The instance registers its event log first thing in its constructor, before any use.
        super().__init__(os.path.join(instance.root_directory, "history", "runs", ""), self._pending_inst_data)
        super().register_instance(instance)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]):
        return cls(inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            # Every use holds self._db_lock, so a connection may move between threads.
            engine = db.create_engine(
                create_db_conn_string(self._base_dir, shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            db.event.listen(engine, "connect", _synchronous_normal)
            if len(self._engines) >= OPEN_DATABASES:
                self._engines.popitem(last=False)[1].dispose()
        self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _close_all(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_all()
        super().wipe()

    def watch(self, run_id: str, cursor: str | None, callback: EventHandlerFn) -> None:
        if self._event_watcher is None:
            self._event_watcher = SqlPollingEventWatcher(self)
        self._event_watcher.watch_run(run_id, cursor, callback)

    def end_watch(self, run_id: str, handler: EventHandlerFn) -> None:
        if self._event_watcher is not None:
            self._event_watcher.unwatch_run(run_id, handler)

    def dispose(self) -> None:
        if self._event_watcher is not None:
            self._event_watcher.close()
        self._close_all()
        super().dispose()
