"""The ``duckdb`` resource: the warehouse file opened read-write, waiting (bounded) for a
file another process holds, with an error that says who holds it and how to release it."""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import Failure, InitResourceContext, MetadataValue, get_dagster_logger
from dagster_duckdb import DuckDBResource
from pydantic import Field

from movie_assets.warehouse.legacy_upgrade import adopt_plain_warehouse

DEFAULT_LOCK_TIMEOUT_SECONDS = 60.0
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def is_lock_conflict(error: BaseException) -> bool:
    """True when ``error`` is DuckDB refusing to open a file another process holds."""
    return isinstance(error, duckdb.IOException) and "Could not set lock on file" in str(error)


class DuckDBLockedError(Failure):
    """The warehouse file stayed locked by another process for the whole wait.

    ``description`` names the file, the holding program and PID when DuckDB reports them,
    and how to release the lock; ``metadata`` carries ``locked_file``, ``holder_pid`` and
    ``waited_seconds``. Raised instead of DuckDB's raw ``IOException``.
    """

    def __init__(self, database: str, waited_seconds: float, duckdb_message: str):
        holder = _HOLDER.search(duckdb_message)
        pid = holder.group("pid") if holder else None
        who = f"{holder.group('program')} (PID {pid})" if holder else "another process"
        description = (
            f"The DuckDB warehouse {database} is locked by {who}; waited {waited_seconds:.0f} s "
            "(MOVIES_DUCKDB_LOCK_TIMEOUT). DuckDB allows one process to open a file for writing, "
            "and no other process may open it at all meanwhile. Only runs should open this build "
            "file (readers open MOVIES_DUCKDB_PATH). Release it: wait for / cancel the other "
            "Dagster run (UI → Runs), or close a connection opened on it by hand (conn.close(), "
            "quit a duckdb CLI)" + (f", or stop the process: kill {pid}" if pid else "") + ". Then re-run."
        )
        super().__init__(
            description=description,
            metadata={
                "locked_file": MetadataValue.path(database),
                "waited_seconds": round(waited_seconds, 1),
                **({"holder_pid": int(pid)} if pid else {}),
            },
            allow_retries=True,
        )
        self.database = database


class DuckDBWarehouseResource(DuckDBResource):
    """The build DuckDB file (``MOVIES_BUILD_DUCKDB_PATH``) where runs build silver and gold,
    opened read-write; readers never open it (they get published snapshots).

    When another process holds the file (a second run, a connection opened on it by hand), opening
    it waits, retrying every ``poll_seconds`` up to ``lock_timeout_seconds``, and then raises
    :class:`DuckDBLockedError` naming the file and how to release it. Other DuckDB errors
    propagate unchanged.
    """

    lock_timeout_seconds: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_SECONDS,
        description="Seconds to wait for another process to release the file before failing.",
    )
    poll_seconds: float = Field(default=1.0, description="Seconds between attempts to open a locked file.")
    adopt_from: str | None = Field(
        default=None,
        description="A warehouse file from before published snapshots (the readers' path) to move here on first use.",
    )

    def setup_for_execution(self, context: InitResourceContext) -> None:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        if self.adopt_from:
            adopt_plain_warehouse(Path(self.adopt_from), Path(self.database), get_dagster_logger().warning)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new read-write connection; the caller closes it.

        Raises:
            DuckDBLockedError: the file stayed locked for ``lock_timeout_seconds``.
        """
        started = time.monotonic()
        announced = False
        while True:
            try:
                return duckdb.connect(self.database, read_only=False, config=dict(self.connection_config))
            except duckdb.IOException as error:
                if not is_lock_conflict(error):
                    raise
                waited = time.monotonic() - started
                if waited >= self.lock_timeout_seconds:
                    raise DuckDBLockedError(self.database, waited, str(error)) from None
                if not announced:
                    get_dagster_logger().warning(
                        f"{self.database} is locked by another process; waiting up to {self.lock_timeout_seconds:.0f} s for it to be released"
                    )
                    announced = True
                time.sleep(min(self.poll_seconds, max(self.lock_timeout_seconds - waited, 0.01)))

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Context manager around :meth:`connect` that closes the connection on exit."""
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    def wait_until_writable(self) -> None:
        """Block until this process could open the file for writing (for steps such as dbt
        that open it in a child process), then release it at once.

        Raises:
            DuckDBLockedError: the file stayed locked for ``lock_timeout_seconds``.
        """
        self.connect().close()
