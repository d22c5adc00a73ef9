"""The provider-folder sensor over the product's real asset graph (dbt models from the
manifest): a changed delivery selects its provider's bronze asset and every unpartitioned
model downstream of it, nothing of the other providers and nothing daily-partitioned."""

import json
from pathlib import Path

import pyarrow as pa
from dagster import AssetKey, Definitions, build_sensor_context

from movie_assets.paths import PipelinePaths
from movie_assets.providers.sensor import provider_files_sensor
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE
from movie_assets.warehouse.lake import Lake, LakeResource


def test_changed_critic_file_selects_the_real_downstream_models(defs: Definitions, sample_data: Path, tmp_path: Path):
    Lake(tmp_path / "lake").write_partition(TMDB_MOVIES_TABLE, "2026-11-20", pa.table({"id": pa.array([], pa.int64())}))
    resources = {"paths": PipelinePaths(input_dir=str(sample_data), reports_dir="unused"), "lake": LakeResource(root=str(tmp_path / "lake"))}
    # A cursor that has seen every file but an older critic delivery.
    with build_sensor_context(definitions=defs, resources=resources) as context:
        cursor = json.loads(provider_files_sensor(context).cursor)
    cursor["critic_agg.csv"] = "0" * 64
    with build_sensor_context(cursor=json.dumps(cursor), definitions=defs, resources=resources) as context:
        result = provider_files_sensor(context)
    assert [r.tags["provider"] for r in result.run_requests] == ["critic"]
    selected = {key.to_user_string() for key in result.run_requests[0].asset_selection}
    assert {
        "bronze/critic_agg",
        "silver/critic_scores",
        "gold/movies_unified_critic_matches",
        "gold/movies_unified",
        "gold/movies_unified_match_summary",
    } <= selected
    assert "bronze/audience_pulse" not in selected and "bronze/tmdb_movies" not in selected
    graph = defs.resolve_asset_graph()
    assert all(graph.get(AssetKey.from_user_string(key)).partitions_def is None for key in selected)
