"""dbt's unit tests (``unit_tests:`` in the models' YAML: each model's SQL on hand-made input
rows against expected output rows) pass on DuckDB. Daily runs leave them out; they run here,
against a copy of the session's sample run (dbt reads the input relations' column types from
the built warehouse). ``test_spark_engine.py`` runs them on Spark."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SampleRun, copy_run
from graph import run_dbt_unit_tests


def unit_test_ids(manifest: Path) -> set[str]:
    return set(json.loads(manifest.read_text())["unit_tests"])


def test_every_dbt_unit_test_passes_on_duckdb(sample_run: SampleRun, dbt_manifest: Path, tmp_path: Path):
    results = run_dbt_unit_tests(copy_run(sample_run, tmp_path / "run"), tmp_path / "dbt")
    assert {result["unique_id"] for result in results} == unit_test_ids(dbt_manifest)
    assert [(result["unique_id"], result["message"]) for result in results if result["status"] != "pass"] == []
