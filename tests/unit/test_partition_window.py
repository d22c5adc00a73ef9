"""The partition window a dbt step passes on: from Dagster's partition (one day, a single-run
range, none) to the environment variables dbt reads, which are set only while dbt starts."""

import os

import pytest
from dagster import AssetExecutionContext, DagsterInstance, DailyPartitionsDefinition, Definitions, asset, define_asset_job

from movie_assets.partitions import partition_window
from movie_assets.transform.project import WINDOW_ENVIRONMENT, environment, window_environment

DAYS = DailyPartitionsDefinition(start_date="2026-11-01")


def windows_seen(**execute) -> dict:
    """``partition_window`` as a partitioned asset and an unpartitioned one downstream see it,
    in one real in-process run of both."""
    seen = {}

    @asset(partitions_def=DAYS)
    def daily(context: AssetExecutionContext) -> None:
        seen["daily"] = partition_window(context)

    @asset(deps=[daily])
    def whole(context: AssetExecutionContext) -> None:
        seen["whole"] = partition_window(context)

    job = Definitions(assets=[daily, whole], jobs=[define_asset_job("both", selection=[daily, whole])]).resolve_job_def("both")
    assert job.execute_in_process(instance=DagsterInstance.ephemeral(), **execute).success
    return seen


def test_one_day_gives_that_day_to_the_next_and_to_the_unpartitioned_asset():
    window = {"min_date": "2026-11-20", "max_date": "2026-11-21"}
    assert windows_seen(partition_key="2026-11-20") == {"daily": window, "whole": window}


def test_a_single_run_range_gives_the_whole_range():
    tags = {"dagster/asset_partition_range_start": "2026-11-18", "dagster/asset_partition_range_end": "2026-11-20"}
    window = {"min_date": "2026-11-18", "max_date": "2026-11-21"}
    assert windows_seen(tags=tags) == {"daily": window, "whole": window}


def test_a_run_without_a_partition_has_no_window():
    assert windows_seen() == {"daily": None, "whole": None}


def test_the_window_variables_are_set_for_the_block_and_restored_after(monkeypatch: pytest.MonkeyPatch):
    first, end = WINDOW_ENVIRONMENT["min_date"], WINDOW_ENVIRONMENT["max_date"]
    monkeypatch.setenv(first, "stale")
    monkeypatch.delenv(end, raising=False)
    with pytest.raises(RuntimeError), environment(window_environment({"min_date": "2026-11-20", "max_date": "2026-11-21"})):
        assert (os.environ[first], os.environ[end]) == ("2026-11-20", "2026-11-21")
        raise RuntimeError("dbt failed to start")
    assert os.environ[first] == "stale" and end not in os.environ
    # No window: both unset, as make install parsed the prepared state.
    with environment(window_environment(None)):
        assert first not in os.environ and end not in os.environ
    assert os.environ[first] == "stale"
