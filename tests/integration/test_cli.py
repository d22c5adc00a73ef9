"""The README's `dagster asset materialize` examples ("The CLI"), run as written in child
processes against a temp warehouse, loading the lazy ``defs`` of ``-m movie_assets.definitions``.

The four examples run in order into one warehouse: the first proves a step alone writes
only bronze; the whole-graph example is the one full build here (no other test runs the
whole graph through the dagster CLI); the last rebuilds one unpartitioned model of it.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
from dagster import AssetKey, DagsterInstance

from conftest import DAY
from movie_assets.settings import REPO_ROOT

README = REPO_ROOT / "README.md"


def readme_cli_examples() -> list[str]:
    """The `dagster asset materialize` command lines of the README's "The CLI" section."""
    section = README.read_text().split("### The CLI", 1)[1].split("\n### ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if "dagster asset materialize" in line]


def run_example(line: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a README line from the repository root; its ``.venv/bin/dagster`` is the dagster
    installed beside this interpreter (a worktree may have no ``.venv`` of its own)."""
    argv = shlex.split(line)
    argv[0] = str(Path(sys.executable).with_name(Path(argv[0]).name))
    return subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


def selection(line: str) -> str:
    argv = shlex.split(line)
    return argv[argv.index("--select") + 1]


def test_readme_has_step_group_whole_graph_and_unpartitioned_examples():
    examples = readme_cli_examples()
    assert [selection(line) for line in examples] == [
        "bronze/tmdb_movies,bronze/tmdb_dead_letter",
        "group:bronze",
        "*",
        "gold/dim_movie",
    ]
    assert [f"--partition {DAY}" in line for line in examples] == [True, True, True, False]
    assert all("-m movie_assets.definitions" in line and line.startswith(".venv/bin/dagster ") for line in examples)


def test_readme_cli_examples_materialize(child_env: dict[str, str], tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    one_step, group, whole, unpartitioned = readme_cli_examples()

    done = run_example(one_step, child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        fetched = conn.execute("SELECT count(*) FROM bronze.tmdb_movies WHERE partition_date = ?", [DAY])
        assert fetched.fetchone() == (300,)
        schemas = {row[0] for row in conn.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()}
    assert schemas == {"bronze"}

    done = run_example(group, child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        bronze = {row[0] for row in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'bronze'").fetchall()}
    assert {"tmdb_movies", "critic_agg", "audience_pulse", "box_office_domestic"} <= bronze

    done = run_example(whole, child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM bronze.tmdb_movies").fetchone() == (300,)
        assert conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone() == (300,)
    assert (tmp_path / "reports" / "movie_data.xlsx").exists()

    dim_movie = AssetKey(["gold", "dim_movie"])
    with DagsterInstance.from_config(child_env["DAGSTER_HOME"]) as instance:
        whole_graph_run = instance.get_latest_materialization_event(dim_movie).run_id
    done = run_example(unpartitioned, child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    with DagsterInstance.from_config(child_env["DAGSTER_HOME"]) as instance:
        latest = instance.get_latest_materialization_event(dim_movie).run_id
        assert latest != whole_graph_run
        assert instance.get_run_by_id(latest).asset_selection == {dim_movie}
