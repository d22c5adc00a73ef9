"""A real PostgreSQL cluster on a loopback port, for the tests (session fixture
``postgres_server``) and the benchmarks (bench/postgres_publish.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.ports import free_port


@dataclass(frozen=True)
class PostgresServer:
    """A PostgreSQL cluster on 127.0.0.1, loopback trusted, superuser ``postgres``.

    Attributes:
        port: its TCP port.
        data_dir: its data folder.
    """

    port: int
    data_dir: Path

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        """The libpq URL of ``database`` as ``user`` (no password: loopback is trusted)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, owner: str = "postgres") -> str:
        """Create database ``name`` owned by ``owner`` (dropping one of that name first); its URL as ``owner``."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.url(name, owner)


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster while the block runs: ``initdb`` into a new temporary folder
    and ``postgres`` on a free loopback port, run as the ``postgres`` user when the caller is
    root (PostgreSQL refuses root), as ``automation/service.py`` does; stopped and deleted
    after the block. Fails the test (``pytest.fail``) when PostgreSQL does not start in 60 s."""
    from movie_assets.automation.service import postgres_bin_dir

    # The postgres user cannot enter pytest's private temp folders.
    root = Path(tempfile.mkdtemp(prefix="movies-pg-test-"))
    root.chmod(0o711)
    data_dir = root / "cluster"
    data_dir.mkdir(mode=0o700)
    as_user: dict = {}
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
        as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    bin_dir = postgres_bin_dir()
    initdb = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "--encoding=UTF8"],
        capture_output=True,
        text=True,
        cwd=root,
        **as_user,
    )
    assert initdb.returncode == 0, initdb.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port), "-c", "listen_addresses=127.0.0.1", "-k", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "postgres.log", "wb"),
        cwd=root,
        **as_user,
    )
    running = PostgresServer(port, data_dir)
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(running.url(), connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL did not start: {(root / 'postgres.log').read_text()[-2000:]}")
            time.sleep(0.2)
    try:
        yield running
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)
