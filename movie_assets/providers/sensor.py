"""The provider-folder sensor: a new delivery (changed file content) triggers its provider's assets.

The cursor is a JSON object ``{path under providers/: sha256 hex}`` of the files seen at the
last evaluation, so touching a file without changing its bytes requests nothing; a
half-copied file that fails validation is retried when its content changes again (the
bronze load keeps the previous delivery meanwhile).

Until the lake holds a first TMDB day, the sensor requests nothing: the models downstream of
a delivery join TMDB's bronze, so such a run could only fail (and alert). It records the
hashes it saw all the same, since the first daily run loads every delivery present.
"""

import hashlib
import json
from pathlib import Path

from dagster import AssetKey, AssetSelection, DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from movie_assets.paths import PipelinePaths
from movie_assets.providers.deliveries import DELIVERIES
from movie_assets.run_tags import WRITES_WAREHOUSE_TAGS
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE
from movie_assets.warehouse.lake import LakeResource

PROVIDER_ASSET_KEYS: dict[str, list[AssetKey]] = {}
for _delivery in DELIVERIES:
    PROVIDER_ASSET_KEYS.setdefault(_delivery.provider, []).append(_delivery.asset_key)

PROVIDER_SELECTION = AssetSelection.assets(*(d.asset_key for d in DELIVERIES)).downstream()


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def delivery_hashes(providers_dir: Path) -> dict[str, str]:
    """``{relative path: sha256}`` for every expected delivery file present in ``providers_dir``."""
    return {d.relative_path: file_sha256(providers_dir / d.relative_path) for d in DELIVERIES if (providers_dir / d.relative_path).is_file()}


def changed_providers(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Providers (``critic``, ``audience``, ``box_office``) with a file whose hash is new or
    differs from ``previous``; a file that disappeared changes nothing (its last load stays)."""
    changed = {d.provider for d in DELIVERIES if d.relative_path in current and current[d.relative_path] != previous.get(d.relative_path)}
    return sorted(changed)


def _run_selection(context: SensorEvaluationContext, provider: str) -> list[AssetKey]:
    """The provider's bronze assets and every unpartitioned asset downstream of them."""
    asset_graph = context.repository_def.asset_graph
    keys = AssetSelection.assets(*PROVIDER_ASSET_KEYS[provider]).downstream().resolve(asset_graph)
    return sorted((k for k in keys if asset_graph.get(k).partitions_def is None), key=lambda k: k.to_user_string())


@sensor(
    asset_selection=PROVIDER_SELECTION,
    minimum_interval_seconds=60,
    # On like the daily schedule: a delivery should load without anyone switching this on.
    # Its first tick (empty cursor) loads every delivery present.
    default_status=DefaultSensorStatus.RUNNING,
    description="Watches $MOVIES_INPUT_DIR/providers; when a delivery file's sha256 changes, runs that "
    "provider's bronze assets and everything downstream of them.",
)
def provider_files_sensor(context: SensorEvaluationContext, paths: PipelinePaths, lake: LakeResource):
    """One run request per provider whose delivery changed since the cursor's hashes; none
    while ``bronze.tmdb_movies`` has no day in the lake (see the module docstring).

    The run key is the provider plus the hash of its files, so the same delivery is never
    requested twice even if the cursor is reset.
    """
    providers_dir = paths.inputs / "providers"
    previous = json.loads(context.cursor) if context.cursor else {}
    current = delivery_hashes(providers_dir)
    providers = changed_providers(previous, current)
    if not providers:
        return SensorResult(skip_reason=SkipReason(f"no changed delivery in {providers_dir}"), cursor=json.dumps(current, sort_keys=True))
    if not lake.lake.partitions(TMDB_MOVIES_TABLE):
        return SensorResult(
            skip_reason=SkipReason(f"deliveries of {', '.join(providers)} wait for the first TMDB day in the lake; the first daily run loads them"),
            cursor=json.dumps(current, sort_keys=True),
        )
    run_requests = []
    for provider in providers:
        files = sorted(d.relative_path for d in DELIVERIES if d.provider == provider and d.relative_path in current)
        content = hashlib.sha256("".join(current[f] for f in files).encode()).hexdigest()[:16]
        run_requests.append(
            RunRequest(
                run_key=f"{provider}:{content}",
                asset_selection=_run_selection(context, provider),
                tags={"provider": provider, "provider_files": ",".join(files), **WRITES_WAREHOUSE_TAGS},
            )
        )
    return SensorResult(run_requests=run_requests, cursor=json.dumps(current, sort_keys=True))
