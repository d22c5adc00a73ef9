"""notebooks/explore.ipynb runs headless against a warehouse built by the pipeline."""

import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from movie_assets.settings import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "explore.ipynb"
# Everything the notebook queries, with what it is built from.
SELECTION = "*gold/vw_top_movies,*gold/vw_genre_popularity,*gold/mart_genre_roi"


@pytest.fixture
def warehouse(child_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse with the gold views and mart for 2026-11-20, built by ``movie_assets.cli``."""
    env = child_env
    path = Path(env["MOVIES_DUCKDB_PATH"])
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--partition", "2026-11-20", "--select", SELECTION],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    # The kernel inherits this process's environment: point it at the temp warehouse.
    monkeypatch.setenv("MOVIES_DUCKDB_PATH", str(path))
    return path


def cell_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.extend(str(value) for value in output.get("data", {}).values())
    return "\n".join(parts)


def test_notebook_runs_headless_and_releases_the_file(warehouse: Path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()

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
