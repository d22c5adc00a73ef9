"""The README's `dagster asset materialize` examples ("The CLI"), run as written in child
processes on a copy of the session's sample run, loading the lazy ``defs`` of
``-m movie_assets.definitions``.

The step, group and unpartitioned examples materialize exactly their selection. The
whole-graph example is the session's sample run itself (the same job over the same
selection, in process); here its selection is resolved by the dagster CLI and must name
every asset of the definitions, so the README line cannot drift from the graph.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
from dagster import AssetKey, DagsterInstance

from conftest import DAY, copy_run
from graph import bronze
from movie_assets.settings import REPO_ROOT
from movie_assets.warehouse.lake import Lake

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


def run_selections(home: str) -> list[set[AssetKey]]:
    """The asset selection of every run recorded in the instance at ``home``, oldest first."""
    with DagsterInstance.from_config(home) as instance:
        return [run.asset_selection for run in reversed(instance.get_runs())]


def test_readme_cli_examples_materialize_their_selection(sample_run, child_env: dict[str, str], tmp_path: Path):
    settings = copy_run(sample_run, tmp_path)
    one_step, group, _, unpartitioned = readme_cli_examples()
    fetched_before = Lake(settings.lake_dir).partition_file("tmdb_movies", DAY)
    fetched_before.unlink()

    done = run_example(one_step, child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    with bronze(settings) as conn:
        fetched = conn.execute("SELECT count(*) FROM bronze.tmdb_movies WHERE partition_date = ?", [DAY])
        assert fetched.fetchone() == (300,)
    step_keys = {AssetKey(["bronze", "tmdb_movies"]), AssetKey(["bronze", "tmdb_dead_letter"])}
    assert run_selections(child_env["DAGSTER_HOME"]) == [step_keys]

    done = run_example(group, child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    group_run = run_selections(child_env["DAGSTER_HOME"])[-1]
    assert {AssetKey(["bronze", name]) for name in ("critic_agg", "audience_pulse", "box_office_domestic")} <= group_run
    assert {key.path[0] for key in group_run} == {"bronze"}

    done = run_example(unpartitioned, child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert run_selections(child_env["DAGSTER_HOME"])[-1] == {AssetKey(["gold", "dim_movie"])}
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM gold.dim_movie").fetchone() == (300,)


def test_readme_whole_graph_example_selects_every_asset(defs, child_env: dict[str, str]):
    whole = readme_cli_examples()[2]
    argv = shlex.split(whole)
    listing = [argv[0], "asset", "list", "-m", "movie_assets.definitions", "--select", selection(whole)]
    done = run_example(shlex.join(listing), child_env)
    assert done.returncode == 0, done.stderr[-3000:]
    listed = {line.strip() for line in done.stdout.splitlines() if line.strip()}
    assert listed == {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
