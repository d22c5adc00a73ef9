"""The drift gates' verdicts on real DuckDB profiles, and the TMDB body contract's
declaration (the one the check and the README read)."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest
from jsonschema import Draft202012Validator

from movie_assets.serving.gates import GateLimits, build_profile, evaluate_gates
from movie_assets.settings import DEFAULT_SAMPLE_INPUT_DIR, REPO_ROOT
from movie_assets.tmdb.contract import contract_fields, contract_schema, markdown_table, measure_partition


def gold(movies: int, budget_known: float = 0.6, popularity_scale: float = 1.0) -> dict:
    """The profile of an in-memory gold schema with ``movies`` movies."""
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA gold")
        conn.execute(
            "CREATE TABLE gold.dim_movie AS SELECT range AS movie_id, "
            "CASE WHEN range < ? THEN range * 1000 END AS budget_usd, range * ? AS popularity FROM range(?)",
            [int(movies * budget_known), popularity_scale, movies],
        )
        return build_profile(conn, {"partition": "2026-11-21", "movies": movies, "previous_partition": "2026-11-20", "previous_movies": 300})


def test_an_unchanged_build_passes_every_gate():
    results = evaluate_gates(gold(300), gold(300), GateLimits())
    assert all(result.passed for result in results.values())


def test_a_column_gone_null_and_lost_rows_and_volume_block_with_the_numbers():
    results = evaluate_gates(gold(100, budget_known=0.0), gold(300), GateLimits())
    assert results["gold_column_profiles"].lines[0] == "gold.dim_movie.budget_usd non-null share 0.00, published 0.60"
    assert results["gold_row_counts"].lines == ["gold.dim_movie rows 100, published 300 (lost 67%, limit 50%)"]
    assert results["tmdb_landed_volume"].lines == ["bronze.tmdb_movies landed 100 movies for 2026-11-21, 0.33 of 300 on 2026-11-20 (limit 0.50)"]


def test_a_day_without_changes_after_a_day_with_many_publishes():
    """gold.rpt_changes_of_the_day holds the reported day's revisions only: none today after
    thousands yesterday is a quiet day, not lost data; the history they come from is gated."""
    published, today = gold(300), gold(300)
    published["tables"]["gold.rpt_changes_of_the_day"] = 5_000
    today["tables"]["gold.rpt_changes_of_the_day"] = 0
    published["tables"]["gold.fct_movie_attribute_changes"] = 5_000
    today["tables"]["gold.fct_movie_attribute_changes"] = 1_000
    results = evaluate_gates(today, published, GateLimits())
    assert results["gold_row_counts"].lines == ["gold.fct_movie_attribute_changes rows 1,000, published 5,000 (lost 80%, limit 50%)"]


def test_a_rescaled_measure_only_warns():
    results = evaluate_gates(gold(300, popularity_scale=10.0), gold(300), GateLimits())
    assert not any(results[name].lines for name in ("gold_row_counts", "gold_column_profiles", "tmdb_landed_volume"))
    assert results["gold_measure_shifts"].lines[0].startswith("gold.dim_movie.popularity mean")


def test_a_renamed_column_profiles_as_null():
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA gold; CREATE TABLE gold.dim_movie AS SELECT 1 AS movie_id, 2 AS budget")
        profile = build_profile(conn)
    assert profile["columns"]["gold.dim_movie.budget_usd"]["non_null_share"] == 0.0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [('{"id": 1, "budget": "100"}', "'100' is not of type 'integer'"), ('{"id": 1}', "missing")],
)
def test_the_contract_names_field_share_examples_and_reason(payload: str, reason: str):
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE bodies AS SELECT range AS movie_id, ? AS payload, DATE '2026-11-20' AS partition_date FROM range(1, 5)",
            [payload],
        )
        report = measure_partition(conn, "bodies", "2026-11-20")
    budget = next(breach for breach in report.breaches if breach.field.name == "budget")
    assert budget.share == 0.0 and budget.examples == [1, 2, 3] and budget.reason == reason
    assert budget.line().startswith("budget: carried as integer by 0.00 of 4 bodies, contract requires 0.95; e.g. movie ids 1, 2, 3")


def test_the_contract_is_a_json_schema_the_sample_bodies_satisfy():
    schema = contract_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    with gzip.open(DEFAULT_SAMPLE_INPUT_DIR / "tmdb" / "movies.jsonl.gz", "rt", encoding="utf-8") as lines:
        errors = [(body["id"], error.message) for body in map(json.loads, lines) for error in validator.iter_errors(body)]
    assert errors == []


def test_the_readme_shows_the_contract_as_declared():
    assert markdown_table() in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert {field.name for field in contract_fields()} >= {"budget", "revenue", "genres", "credits", "vote_average"}


def test_a_column_collapsing_to_one_value_blocks_but_fewer_rows_alone_do_not():
    collapsed = gold(300)
    collapsed["columns"]["gold.dim_movie.popularity"].update(distinct=1)
    # distinct counts are DuckDB's approx_count_distinct (HyperLogLog): 302 for 300 here.
    (line,) = evaluate_gates(collapsed, gold(300), GateLimits())["gold_column_profiles"].lines
    assert line.startswith("gold.dim_movie.popularity distinct values 1 in 300 rows, published 30")
    assert not evaluate_gates(gold(57), gold(300), GateLimits())["gold_column_profiles"].lines
