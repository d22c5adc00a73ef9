"""Readers on DuckDB 1.x open the published warehouse: the sample run's snapshot, read-only,
through the Python package and the CLI of a reader's DuckDB 1.x from PyPI.

That DuckDB lives in its own virtual environment, ``.venv-duckdb1``, which ``make install``
creates from the pins in the Makefile (``.venv-duckdb1/pins`` names them); nothing is
downloaded at test time.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from movie_assets.settings import REPO_ROOT

READER_VENV = REPO_ROOT / ".venv-duckdb1"

# Row counts of every gold table as the reader's DuckDB sees them, and the storage version
# the file's meta.publication records for this publication.
COUNT_GOLD = """
import json, sys
import duckdb
with duckdb.connect(sys.argv[1], read_only=True) as conn:
    names = [row[0] for row in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gold' ORDER BY 1").fetchall()]
    counts = {name: conn.execute(f'SELECT count(*) FROM gold."{name}"').fetchone()[0] for name in names}
    recorded = conn.execute("SELECT storage_version FROM meta.publication ORDER BY published_at DESC LIMIT 1").fetchone()[0]
print(json.dumps({"version": duckdb.__version__, "counts": counts, "recorded": recorded}))
"""


@dataclass(frozen=True)
class ReaderDuckDB:
    """A reader's DuckDB 1.x: ``python`` has the ``duckdb`` package at ``version``, ``cli``
    is the ``duckdb`` command at ``cli_version``."""

    python: Path
    cli: Path
    version: str
    cli_version: str


@pytest.fixture(scope="session")
def reader_duckdb() -> ReaderDuckDB:
    """The reader's environment made by ``make install``, checked once against its pins."""
    pins_file = READER_VENV / "pins"
    if not pins_file.is_file():
        pytest.fail(f"{READER_VENV} is missing or incomplete: run `make install` (or `make reader-duckdb`) to create it")
    pins = dict(pin.split("==") for pin in pins_file.read_text().split())
    reader = ReaderDuckDB(READER_VENV / "bin" / "python", READER_VENV / "bin" / "duckdb", pins["duckdb"], pins["duckdb-cli"])
    installed = subprocess.run(
        [reader.python, "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    cli = subprocess.run([reader.cli, "--version"], capture_output=True, text=True, check=True).stdout
    assert installed == reader.version and cli.startswith(f"v{reader.cli_version} "), (
        f"{READER_VENV} holds duckdb {installed} and CLI {cli.strip()}, not its pins {pins}: run `make reader-duckdb`"
    )
    assert reader.version.startswith("1.") and reader.cli_version.startswith("1.")
    return reader


def gold_relations(path: Path) -> list[str]:
    """Names of the tables and views in ``gold`` of the DuckDB file ``path``."""
    with duckdb.connect(str(path), read_only=True) as conn:
        return [row[0] for row in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'gold' ORDER BY 1").fetchall()]


def test_every_gold_table_and_view_answers_duckdb_1_with_the_rows_duckdb_2_reads(sample_run, reader_duckdb: ReaderDuckDB):
    snapshot = sample_run.settings.duckdb_path
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        newest = {name: conn.execute(f'SELECT count(*) FROM gold."{name}"').fetchone()[0] for name in gold_relations(snapshot)}
    read = subprocess.run([reader_duckdb.python, "-c", COUNT_GOLD, str(snapshot)], capture_output=True, text=True)
    assert read.returncode == 0, read.stderr
    reader = json.loads(read.stdout)
    assert reader["version"] == reader_duckdb.version
    # Every table and view the build's gold schema has (views were frozen as tables).
    assert sorted(reader["counts"]) == gold_relations(sample_run.settings.build_duckdb_path)
    assert reader["counts"] == newest
    # The sample run is a movie's first observation: no attribute has changed yet.
    first_day_empty = {"fct_movie_attribute_changes", "rpt_changes_of_the_day"}
    assert newest["dim_movie"] == 300 and all(count > 0 for name, count in newest.items() if name not in first_day_empty)
    assert reader["recorded"] == "v1.0.0+"


def test_the_duckdb_1_cli_queries_the_readers_path(sample_run, reader_duckdb: ReaderDuckDB):
    shown = subprocess.run(
        [reader_duckdb.cli, "-readonly", str(sample_run.settings.duckdb_path), "-c", "select count(*) from gold.dim_movie"],
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"\b300\b", shown.stdout), shown.stdout
