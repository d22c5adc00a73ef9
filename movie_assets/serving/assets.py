"""The ``serving/warehouse_snapshot`` asset: publish the audited build for readers.

It runs last, downstream of every silver and gold model: when a blocking check of any of
them fails, Dagster skips it, nothing is published and readers keep the last good snapshot.
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, ConfigurableResource, MaterializeResult, MetadataValue, asset

from movie_assets.serving.publish import publish_snapshot
from movie_assets.settings import DEFAULT_SERVING_STORAGE_VERSION
from movie_assets.warehouse.duckdb_resource import DuckDBWarehouseResource
from movie_assets.warehouse.lake import LakeResource

PARTITION_TAG = "dagster/partition"


class ServingResource(ConfigurableResource):
    """Where snapshots are published and which path readers open.

    Attributes:
        serving_dir: folder of the snapshot files (``MOVIES_SERVING_DIR``).
        readers_path: the symlink readers open (``MOVIES_DUCKDB_PATH``).
        keep: snapshots kept (``MOVIES_SERVING_KEEP``).
        storage_version: DuckDB storage version of the snapshots (``MOVIES_SERVING_STORAGE_VERSION``),
            e.g. ``v1.1.0`` or ``latest``.
    """

    serving_dir: str
    readers_path: str
    keep: int = 3
    storage_version: str = DEFAULT_SERVING_STORAGE_VERSION


def build_publish_asset(audited: list[AssetKey]) -> AssetsDefinition:
    """The publish asset, downstream of ``audited`` (every silver and gold model)."""

    @asset(
        key=["serving", "warehouse_snapshot"],
        group_name="serving",
        deps=audited,
        kinds={"duckdb"},
        owners=["team:data-engineering"],
        description=(
            "Write-audit-publish: a new read-only DuckDB snapshot of silver, gold and the dead letters under "
            "MOVIES_SERVING_DIR, with meta.publication (run_id, partition_date, published_at UTC, tmdb_source, "
            "row counts, previous snapshot, storage version); written in MOVIES_SERVING_STORAGE_VERSION so DuckDB 1.x "
            "readers open it; MOVIES_DUCKDB_PATH is switched to it atomically. Skipped when a "
            "blocking check upstream failed, so readers only ever see audited data."
        ),
    )
    def warehouse_snapshot(
        context: AssetExecutionContext, duckdb: DuckDBWarehouseResource, lake: LakeResource, serving: ServingResource
    ) -> MaterializeResult:
        """Publish the build; see :func:`movie_assets.serving.publish.publish_snapshot`.

        Raises:
            movie_assets.warehouse.duckdb_resource.DuckDBLockedError: another process keeps the
                build file open for writing.
        """
        # Which deployment produced the data is decided in dbt (gold.rpt_as_of); opening the
        # build file also waits, bounded, for another writer to let go of it.
        with duckdb.get_connection() as conn:
            tmdb_source = conn.execute("SELECT tmdb_source FROM gold.rpt_as_of").fetchall()[0][0]
        partition_date = context.run.tags.get(PARTITION_TAG)
        publication = publish_snapshot(
            build_path=Path(duckdb.database),
            lake=lake.lake,
            serving_dir=Path(serving.serving_dir),
            readers_path=Path(serving.readers_path),
            keep=serving.keep,
            run_id=context.run_id,
            partition_date=partition_date,
            tmdb_source=tmdb_source,
            storage_version=serving.storage_version,
        )
        context.log.info(
            f"published {publication.snapshot.name} (storage version {publication.storage_version}) in "
            f"{publication.seconds:.1f} s; {serving.readers_path} now "
            f"names it (previous: {publication.previous}); retention removed {publication.removed or 'nothing'}"
        )
        return MaterializeResult(
            metadata={
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
