"""The provider-folder sensor against a real temp folder, evaluated with build_sensor_context.

The asset graph is the real provider assets with stand-ins for what dbt builds downstream
(one unpartitioned, one daily-partitioned), so no dbt manifest is needed; the selection over
the product's real graph is tested in ``tests/integration/test_provider_sensor_graph.py``.
"""

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from dagster import AssetSpec, DailyPartitionsDefinition, DefaultSensorStatus, Definitions, build_sensor_context, load_assets_from_modules

from movie_assets.paths import PipelinePaths
from movie_assets.providers import assets as provider_assets
from movie_assets.providers.sensor import provider_files_sensor
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE
from movie_assets.warehouse.lake import Lake, LakeResource

EVERY_FILE = {
    "critic_agg.csv",
    "audience_pulse.json",
    "box_office/domestic.csv",
    "box_office/international.csv",
    "box_office/financials.csv",
}

# Stand-ins for the dbt models: silver per provider, a gold table over all of them, and a
# daily-partitioned fact that a provider run (which has no partition) must never select.
STAND_INS = [
    AssetSpec(["silver", "critic_scores"], deps=[["bronze", "critic_agg"]]),
    AssetSpec(["silver", "audience_scores"], deps=[["bronze", "audience_pulse"]]),
    AssetSpec(
        ["silver", "box_office"],
        deps=[["bronze", "box_office_domestic"], ["bronze", "box_office_international"], ["bronze", "box_office_financials"]],
    ),
    AssetSpec(["gold", "movies_unified"], deps=[["silver", "critic_scores"], ["silver", "audience_scores"], ["silver", "box_office"]]),
    AssetSpec(
        ["gold", "fact_movie_daily"],
        deps=[["gold", "movies_unified"]],
        partitions_def=DailyPartitionsDefinition(start_date="2026-01-01"),
    ),
]


@pytest.fixture
def input_dir(tmp_path: Path, sample_data: Path) -> Path:
    shutil.copytree(sample_data / "providers", tmp_path / "providers")
    for path in (tmp_path / "providers").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    # A first TMDB day has landed (see test_nothing_is_requested_before_the_first_tmdb_day).
    Lake(tmp_path / "lake").write_partition(TMDB_MOVIES_TABLE, "2026-11-20", pa.table({"id": pa.array([], pa.int64())}))
    return tmp_path


def evaluate(input_dir: Path, cursor: str | None):
    # The sensor only lists the lake's TMDB days.
    resources = {
        "paths": PipelinePaths(input_dir=str(input_dir), reports_dir=str(input_dir / "reports")),
        "lake": LakeResource(root=str(input_dir / "lake")),
    }
    definitions = Definitions(assets=[*load_assets_from_modules([provider_assets]), *STAND_INS], sensors=[provider_files_sensor], resources=resources)
    context = build_sensor_context(cursor=cursor, definitions=definitions, resources=resources)
    return provider_files_sensor(context)


def keys(run_request) -> set[str]:
    return {key.to_user_string() for key in run_request.asset_selection}


def test_first_evaluation_requests_every_provider_and_records_hashes(input_dir: Path):
    result = evaluate(input_dir, None)
    by_provider = {r.tags["provider"]: r for r in result.run_requests}
    assert set(by_provider) == {"critic", "audience", "box_office"}
    assert keys(by_provider["box_office"]) == {
        "bronze/box_office_domestic",
        "bronze/box_office_international",
        "bronze/box_office_financials",
        "silver/box_office",
        "gold/movies_unified",
    }
    assert set(json.loads(result.cursor)) == EVERY_FILE


def test_unchanged_files_request_nothing_even_when_touched(input_dir: Path):
    cursor = evaluate(input_dir, None).cursor
    critic = input_dir / "providers" / "critic_agg.csv"
    os.utime(critic, (critic.stat().st_atime + 60, critic.stat().st_mtime + 60))
    result = evaluate(input_dir, cursor)
    assert not result.run_requests
    assert result.skip_reason is not None
    assert result.cursor == cursor


def test_changed_file_requests_its_provider_and_everything_downstream(input_dir: Path):
    cursor = evaluate(input_dir, None).cursor
    critic = input_dir / "providers" / "critic_agg.csv"
    critic.write_bytes(critic.read_bytes() + b"Alien,1979,tt0078748,97,,,,8.9,89,,\n")
    result = evaluate(input_dir, cursor)
    assert [r.tags["provider"] for r in result.run_requests] == ["critic"]
    selected = keys(result.run_requests[0])
    # Nothing of other providers' bronze, and nothing daily-partitioned (the run has no partition).
    assert selected == {"bronze/critic_agg", "silver/critic_scores", "gold/movies_unified"}
    assert json.loads(result.cursor)["critic_agg.csv"] != json.loads(cursor)["critic_agg.csv"]


def test_run_key_is_the_content_so_a_reverted_file_is_not_rerun_twice(input_dir: Path):
    first = evaluate(input_dir, None)
    original_key = next(r.run_key for r in first.run_requests if r.tags["provider"] == "audience")
    audience = input_dir / "providers" / "audience_pulse.json"
    original = audience.read_bytes()
    audience.write_bytes(b"[]")
    changed = evaluate(input_dir, first.cursor)
    assert changed.run_requests[0].run_key != original_key
    audience.write_bytes(original)
    reverted = evaluate(input_dir, changed.cursor)
    # Same content as the first delivery: same run key, which Dagster launches only once.
    assert reverted.run_requests[0].run_key == original_key


def test_a_removed_file_requests_nothing(input_dir: Path):
    cursor = evaluate(input_dir, None).cursor
    (input_dir / "providers" / "box_office" / "financials.csv").unlink()
    result = evaluate(input_dir, cursor)
    assert not result.run_requests
    assert "box_office/financials.csv" not in json.loads(result.cursor)


def test_sensor_is_running_by_default():
    assert provider_files_sensor.default_status == DefaultSensorStatus.RUNNING


def test_nothing_is_requested_before_the_first_tmdb_day(input_dir: Path):
    shutil.rmtree(input_dir / "lake")
    first = evaluate(input_dir, None)
    assert not first.run_requests
    assert "wait for the first TMDB day" in first.skip_reason.skip_message
    # The hashes are recorded: the first daily run loads these deliveries, so no run follows
    # for them once the day has landed.
    assert set(json.loads(first.cursor)) == EVERY_FILE
    Lake(input_dir / "lake").write_partition(TMDB_MOVIES_TABLE, "2026-11-20", pa.table({"id": pa.array([], pa.int64())}))
    assert not evaluate(input_dir, first.cursor).run_requests
