"""The run's window as the dbt resource reads it from the run's tags, to parse dbt ahead for the
daily models: it must give the vars the daily models' step passes, or the parse is wasted."""

from movie_assets.transform.project import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    DBT_PROJECT_DIR,
    PARTITION_NAME_TAG,
    WarehouseDbtCliResource,
    WindowParse,
    dbt_executable,
    run_window,
)


def test_one_day_run_gets_that_day():
    assert run_window({PARTITION_NAME_TAG: "2026-11-20"}) == {"min_date": "2026-11-20", "max_date": "2026-11-21"}


def test_range_run_gets_the_whole_range():
    tags = {ASSET_PARTITION_RANGE_START_TAG: "2026-11-18", ASSET_PARTITION_RANGE_END_TAG: "2026-11-20"}
    assert run_window(tags) == {"min_date": "2026-11-18", "max_date": "2026-11-21"}


def test_run_without_a_daily_partition_gets_none():
    assert run_window({}) is None
    assert run_window({PARTITION_NAME_TAG: "not-a-day"}) is None


def test_parse_prepares_only_the_invocation_with_its_vars():
    dbt = WarehouseDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable(), profile_vars='{"duckdb_path": "x"}')
    parse = WindowParse.__new__(WindowParse)
    parse.vars_args = dbt.vars_args({"min_date": "2026-11-20", "max_date": "2026-11-21"})
    assert parse.matches(["build", *dbt.vars_args({"min_date": "2026-11-20", "max_date": "2026-11-21"})])
    assert not parse.matches(["build", *dbt.vars_args()])
    assert not parse.matches(["build", *dbt.vars_args({"min_date": "2026-11-19", "max_date": "2026-11-21"})])
