"""notebooks/explore.ipynb runs headless against the warehouse of the session's sample run and
releases the file when done."""

from pathlib import Path

import duckdb
import nbformat
from nbclient import NotebookClient

from conftest import SampleRun, copy_run
from movie_assets.settings import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "explore.ipynb"


def cell_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.extend(str(value) for value in output.get("data", {}).values())
    return "\n".join(parts)


def test_notebook_runs_headless_and_releases_the_file(sample_run: SampleRun, tmp_path: Path, child_env: dict[str, str]):
    # A copy: the end of the test opens the file for writing, which the shared run must never be.
    warehouse = copy_run(sample_run, tmp_path / "run").duckdb_path
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    # The kernel finds the warehouse as a person's would: MOVIES_DUCKDB_PATH in its environment.
    client.execute(env={**child_env, "MOVIES_DUCKDB_PATH": str(warehouse)})

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [output for cell in code for output in cell.outputs if output.output_type == "error"]
    text = "\n".join(cell_text(cell) for cell in code)
    assert f"opened {warehouse} read-only" in text
    assert "mart_genre_roi" in text and "vw_top_movies" in text
    assert "Avatar" in text
    assert "Science Fiction" in text
    assert "conn.close()" in code[-1].source
    assert any("read_only=True" in cell.source for cell in code)

    # The notebook closed its connection and its kernel has exited: a writer gets in.
    with duckdb.connect(str(warehouse)) as conn:
        assert conn.execute("SELECT count(*) FROM gold.mart_genre_roi").fetchone()[0] > 0
