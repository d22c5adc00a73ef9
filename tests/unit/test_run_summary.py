"""The terminal run summary (``movie_assets.automation.run_summary``).

``summarize_events`` and ``write_event_log`` read the event log of real in-process Dagster
runs of toy assets (a bronze and a silver asset, one passing and one failing check; a run
with a failing step), so the test follows Dagster's actual event shapes. ``warehouse_counts``
reads a tiny DuckDB build file, ``lake_counts`` a tiny lake; ``format_summary`` is checked for
content and for staying short when many checks fail.
"""

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from dagster import AssetCheckResult, AssetCheckSeverity, DagsterInstance, asset, asset_check, materialize

from movie_assets.automation.run_summary import (
    MAX_LISTED_FAILURES,
    CheckOutcome,
    RunSummary,
    format_summary,
    lake_counts,
    summarize_events,
    warehouse_counts,
    write_event_log,
)
from movie_assets.warehouse.lake import Lake

DAY = "2026-11-20"


@asset(key=["bronze", "toy"])
def bronze_toy() -> int:
    return 3


@asset(key=["silver", "toy"], deps=[bronze_toy])
def silver_toy() -> int:
    return 2


@asset_check(asset=bronze_toy)
def has_rows() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


@asset_check(asset=silver_toy)
def unique_ids() -> AssetCheckResult:
    return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN)


@asset(key=["gold", "broken"])
def gold_broken() -> int:
    raise RuntimeError("toy failure")


@asset(key=["gold", "dbt_broken"])
def gold_dbt_broken() -> int:
    # The shape of dagster-dbt's DagsterDbtCliRuntimeError message for a failed `dbt build`.
    raise RuntimeError(
        "The dbt CLI process with command\n\n`dbt build --vars {...}`\n\nfailed with exit code `1`. Check the "
        "stdout in the Dagster compute logs.\n\nErrors parsed from dbt logs:\n\nRuntime Error in model movies\n"
        '  IO Error: Could not set lock on file "build/warehouse.duckdb"\n\nRuntime Error in model credits'
    )


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="module")
def good_run(instance: DagsterInstance) -> RunSummary:
    result = materialize([bronze_toy, silver_toy, has_rows, unique_ids], instance=instance)
    return summarize_events(result.run_id, DAY, result.success, instance.all_logs(result.run_id))


@pytest.fixture(scope="module")
def failed_run(instance: DagsterInstance) -> RunSummary:
    result = materialize([bronze_toy, gold_broken], instance=instance, raise_on_error=False)
    return summarize_events(result.run_id, None, result.success, instance.all_logs(result.run_id))


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A build file: silver 1 table (2 rows), gold 1 (empty), plus a table in ``main`` that
    is no layer of the pipeline."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE SCHEMA silver; CREATE SCHEMA gold")
        conn.execute("CREATE TABLE silver.movies AS SELECT range AS movie_id FROM range(2)")
        conn.execute("CREATE TABLE gold.dim_movie (movie_id BIGINT)")
        conn.execute("CREATE TABLE main.scratch AS SELECT range FROM range(50)")
    return database


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """bronze: tmdb_movies (3 rows on the day), tmdb_dead_letter (3 on the day, 1 the day
    before), one provider delivery (2 rows), and a folder with nothing landed."""
    lake = Lake(tmp_path / "lake")
    lake.write_partition("tmdb_movies", DAY, pa.table({"movie_id": [1, 2, 3]}))
    lake.write_partition("tmdb_dead_letter", DAY, pa.table({"reason": ["timeout", "not-found", "timeout"]}))
    lake.write_partition("tmdb_dead_letter", "2026-11-19", pa.table({"reason": ["timeout"]}))
    lake.write_delivery("critic_agg", "abc", pa.table({"x": ["1", "2"]}))
    (lake.root / "bronze" / "audience_pulse").mkdir()
    return lake


def test_stage_seconds_per_layer_in_graph_order(good_run: RunSummary):
    assert list(good_run.stage_seconds) == ["bronze", "silver"]
    assert all(seconds >= 0 for seconds in good_run.stage_seconds.values())
    assert (good_run.partition, good_run.succeeded) == (DAY, True)


def test_checks_passed_and_failed(good_run: RunSummary):
    assert sorted((check.name, check.passed) for check in good_run.checks) == [
        ("bronze/toy:has_rows", True),
        ("silver/toy:unique_ids", False),
    ]
    assert [(check.name, check.severity) for check in good_run.checks_failed] == [("silver/toy:unique_ids", "WARN")]
    assert (good_run.failed_steps, good_run.skipped_steps) == ([], 0)


def test_failed_step_is_listed(failed_run: RunSummary):
    assert not failed_run.succeeded
    assert failed_run.failed_steps == ["gold__broken"]
    # A failed step materialized nothing, so its time counts under "other".
    assert set(failed_run.stage_seconds) == {"bronze", "other"}


def test_warehouse_counts_per_layer(warehouse: Path, tmp_path: Path):
    assert warehouse_counts(warehouse) == {"silver": (1, 2), "gold": (1, 0)}
    assert warehouse_counts(tmp_path / "missing.duckdb") == {}
    assert not (tmp_path / "missing.duckdb").exists()


def test_lake_counts_bronze_and_dead_letters_of_the_day(lake: Lake):
    assert lake_counts(lake, DAY) == ((3, 9), {"not-found": 1, "timeout": 2})
    assert lake_counts(lake, None) == ((3, 9), {})
    assert lake_counts(Lake(lake.root.parent / "no_lake"), DAY) == ((0, 0), {})


def test_format_summary_of_a_run(good_run: RunSummary, warehouse: Path, lake: Lake, tmp_path: Path):
    layers = warehouse_counts(warehouse)
    layers["bronze"], letters = lake_counts(lake, DAY)
    text = format_summary(good_run, layers, letters, "snapshot", {"workbook": tmp_path / "movies.xlsx"})
    lines = text.splitlines()
    assert len(lines) < 60
    assert lines[0] == f"run {good_run.run_id} for {DAY}: succeeded (TMDB source: snapshot)"
    assert any(line.split()[:1] == ["bronze"] and line.split()[1:] == ["3", "9"] for line in lines)
    assert "  dead letters of the day: 3 (not-found 1, timeout 2)" in lines
    assert "  checks: 1 passed, 1 failed" in lines
    assert "    FAILED (WARN) silver/toy:unique_ids" in lines
    assert lines[-1].split() == ["workbook", str(tmp_path / "movies.xlsx")]


def test_format_summary_of_a_failed_run(failed_run: RunSummary):
    text = format_summary(failed_run, {}, {}, "live", {})
    assert text.splitlines()[0].endswith("for no partition: FAILED (TMDB source: live)")
    lines = text.splitlines()
    # The step, then what it raised (not Dagster's wrapper around it), without the traceback.
    assert lines[lines.index("  step failed: gold__broken") + 1] == "    RuntimeError: toy failure"
    assert "Stack Trace" not in text and 'File "' not in text
    assert "layer" not in text


def test_format_summary_stays_short_when_many_checks_fail():
    checks = [CheckOutcome(f"silver/t:check_{n:02}", passed=False, severity="ERROR") for n in range(40)]
    summary = RunSummary("r1", DAY, False, stage_seconds={"bronze": 1.0, "silver+gold": 2.0}, checks=checks)
    lines = format_summary(summary, {"bronze": (9, 100)}, {}, "snapshot", {}).splitlines()
    assert len(lines) < 60
    assert sum(line.startswith("    FAILED (ERROR)") for line in lines) == MAX_LISTED_FAILURES
    assert f"    … and {40 - MAX_LISTED_FAILURES} more (see the log)" in lines
    assert "  checks: 0 passed, 40 failed" in lines


def test_write_event_log_has_every_event_and_the_console_output(instance: DagsterInstance, tmp_path: Path):
    result = materialize([bronze_toy, has_rows], instance=instance)
    path = write_event_log(instance, result.run_id, tmp_path / "logs" / "run.log", console_output="dbt says hi\n")
    lines = path.read_text(encoding="utf-8").splitlines()
    events = len(instance.all_logs(result.run_id))
    assert lines[events:] == ["", "--- console output of the run ---", "dbt says hi"]
    assert any(" bronze__toy STEP_SUCCESS " in line for line in lines[:events])
    assert any("ASSET_CHECK_EVALUATION Asset check 'has_rows' on 'bronze/toy' passed." in line for line in lines[:events])


def test_write_event_log_has_a_failed_steps_traceback(instance: DagsterInstance, tmp_path: Path):
    result = materialize([gold_broken], instance=instance, raise_on_error=False)
    text = write_event_log(instance, result.run_id, tmp_path / "run.log").read_text(encoding="utf-8")
    failure = text[text.index(" gold__broken STEP_FAILURE ") :]
    assert "RuntimeError: toy failure" in failure
    assert 'raise RuntimeError("toy failure")' in failure


def test_failed_dbt_command_shows_dbts_errors_not_the_command_line(instance: DagsterInstance):
    result = materialize([gold_dbt_broken], instance=instance, raise_on_error=False)
    summary = summarize_events(result.run_id, None, result.success, instance.all_logs(result.run_id))
    assert summary.errors == {
        "gold__dbt_broken": [
            "RuntimeError: The dbt CLI process with command",
            "Runtime Error in model movies",
            '  IO Error: Could not set lock on file "build/warehouse.duckdb"',
        ]
    }
