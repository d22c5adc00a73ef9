"""The ``serving/warehouse_snapshot`` asset: publish the audited build for readers.

It runs last, downstream of every silver and gold model: when a blocking check of any of
them fails, Dagster skips it, nothing is published and readers keep the last good snapshot.
Before it copies anything it evaluates the drift gates (:mod:`movie_assets.serving.gates`)
against the snapshot readers have now, as its own asset checks; a failed blocking gate fails
the step, so nothing is published.
"""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    ConfigurableResource,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from movie_assets.acceptance import accepted_checks
from movie_assets.serving.gates import BLOCKING_GATES, GateLimits, build_profile, evaluate_gates, landed_volume, published_profile
from movie_assets.serving.publish import current_snapshot, publish_snapshot
from movie_assets.settings import DEFAULT_SERVING_STORAGE_VERSION
from movie_assets.tmdb.assets import tmdb_lake
from movie_assets.warehouse.duckdb_resource import DuckDBWarehouseResource
from movie_assets.warehouse.lake import LakeResource

PARTITION_TAG = "dagster/partition"


class ServingResource(ConfigurableResource):
    """Where snapshots are published and which path readers open.

    Attributes:
        serving_dir: folder of the snapshot files (``MOVIES_SERVING_DIR``).
        readers_path: the symlink readers open (``MOVIES_DUCKDB_PATH``).
        keep: snapshots kept (``MOVIES_SERVING_KEEP``).
        gate_max_non_null_drop: ``MOVIES_GATE_MAX_NON_NULL_DROP``, see :class:`GateLimits`.
        gate_max_row_loss: ``MOVIES_GATE_MAX_ROW_LOSS``.
        gate_min_volume_ratio: ``MOVIES_GATE_MIN_VOLUME_RATIO``.
        storage_version: DuckDB storage version of the snapshots (``MOVIES_SERVING_STORAGE_VERSION``),
            e.g. ``v1.1.0`` or ``latest``.
    """

    serving_dir: str
    readers_path: str
    keep: int = 3
    gate_max_non_null_drop: float = 0.2
    gate_max_row_loss: float = 0.5
    gate_min_volume_ratio: float = 0.5
    storage_version: str = DEFAULT_SERVING_STORAGE_VERSION

    def limits(self) -> GateLimits:
        return GateLimits(self.gate_max_non_null_drop, self.gate_max_row_loss, self.gate_min_volume_ratio)


GATE_DESCRIPTIONS = {
    "gold_row_counts": "No gold table lost more than MOVIES_GATE_MAX_ROW_LOSS (default 50%) of its rows since the last publication.",
    "gold_column_profiles": (
        "The columns readers use (money, votes, popularity, dates of dim_movie, fact_movie_daily's newest day and "
        "mart_genre_roi) kept their non-null share within MOVIES_GATE_MAX_NON_NULL_DROP (default 0.2, absolute) and "
        "their distinct values per row within MOVIES_GATE_MAX_ROW_LOSS of the last publication."
    ),
    "tmdb_landed_volume": "The movies landed today are at least MOVIES_GATE_MIN_VOLUME_RATIO (default 0.5) of the previous day's.",
    "gold_measure_shifts": "Warns (never blocks) when a profiled column's mean or median moved by more than half since the last publication.",
}


def build_publish_asset(audited: list[AssetKey]) -> AssetsDefinition:
    """The publish asset, downstream of ``audited`` (every silver and gold model)."""

    @asset(
        key=["serving", "warehouse_snapshot"],
        group_name="serving",
        deps=audited,
        kinds={"duckdb"},
        owners=["team:data-engineering"],
        check_specs=[
            AssetCheckSpec(
                name,
                asset=["serving", "warehouse_snapshot"],
                blocking=name in BLOCKING_GATES,
                description=f"Gate before publication: {text} Accept a real change for one run: make run ACCEPT={name}.",
            )
            for name, text in GATE_DESCRIPTIONS.items()
        ],
        description=(
            "Write-audit-publish: a new read-only DuckDB snapshot of silver, gold and the dead letters under "
            "MOVIES_SERVING_DIR, with meta.publication (run_id, partition_date, published_at UTC, tmdb_source, "
            "row counts, previous snapshot, storage version); written in MOVIES_SERVING_STORAGE_VERSION so DuckDB 1.x "
            "readers open it; MOVIES_DUCKDB_PATH is switched to it atomically. Skipped when a "
            "blocking check upstream failed, so readers only ever see audited data."
        ),
    )
    def warehouse_snapshot(context: AssetExecutionContext, duckdb: DuckDBWarehouseResource, lake: LakeResource, serving: ServingResource):
        """Evaluate the drift gates, then publish the build; see
        :func:`movie_assets.serving.publish.publish_snapshot`.

        Raises:
            dagster.Failure: a blocking gate failed and the run does not accept it (the
                message carries the gate's lines); nothing is published.
            movie_assets.warehouse.duckdb_resource.DuckDBLockedError: another process keeps the
                build file open for writing.
        """
        # Which deployment produced the data is decided in dbt (gold.rpt_as_of); opening the
        # build file also waits, bounded, for another writer to let go of it.
        partition_date = context.run.tags.get(PARTITION_TAG)
        with tmdb_lake(lake.lake) as lake_conn:
            landed = landed_volume(lake_conn, partition_date)
        with duckdb.get_connection() as conn:
            tmdb_source = conn.execute("SELECT tmdb_source FROM gold.rpt_as_of").fetchall()[0][0]
            profile = build_profile(conn, landed)
        accepted = accepted_checks(context.run.tags)
        previous = current_snapshot(Path(serving.readers_path))
        gates = evaluate_gates(profile, published_profile(previous), serving.limits())
        stopped = []
        for name, gate in gates.items():
            blocking = name in BLOCKING_GATES
            if blocking and not gate.passed and name not in accepted:
                stopped.extend(f"{name}: {line}" for line in gate.lines)
            yield AssetCheckResult(
                check_name=name,
                passed=gate.passed or (blocking and name in accepted),
                severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
                description="; ".join(gate.lines) or None,
                metadata={
                    "lines": MetadataValue.json(gate.lines),
                    "accepted": name in accepted,
                    "compared_with": previous.name if previous else "nothing published yet",
                },
            )
        if stopped:
            raise Failure(
                description=(
                    f"not published, readers keep {previous.name if previous else 'nothing'}: "
                    + "; ".join(stopped)
                    + " (accept a real change for one run with make run ACCEPT=<check name>)"
                ),
                metadata={"gates": MetadataValue.json(stopped)},
            )
        publication = publish_snapshot(
            build_path=Path(duckdb.database),
            lake=lake.lake,
            serving_dir=Path(serving.serving_dir),
            readers_path=Path(serving.readers_path),
            keep=serving.keep,
            run_id=context.run_id,
            partition_date=partition_date,
            tmdb_source=tmdb_source,
            profile=profile,
            accepted=accepted,
            storage_version=serving.storage_version,
        )
        context.log.info(
            f"published {publication.snapshot.name} (storage version {publication.storage_version}) in "
            f"{publication.seconds:.1f} s; {serving.readers_path} now "
            f"names it (previous: {publication.previous}); retention removed {publication.removed or 'nothing'}"
        )
        yield MaterializeResult(
            metadata={
                "accepted_checks": ", ".join(accepted) or "none",
                "snapshot": MetadataValue.path(str(publication.snapshot)),
                "readers_path": MetadataValue.path(serving.readers_path),
                "previous_snapshot": publication.previous or "none",
                "tables": len(publication.row_counts),
                "rows": sum(publication.row_counts.values()),
                "seconds": round(publication.seconds, 2),
                "storage_version": publication.storage_version,
                "removed_by_retention": ", ".join(publication.removed) or "none",
            }
        )

    return warehouse_snapshot
