"""The ``serving/postgres_publication`` asset: the audited star schema in PostgreSQL for BI tools.

It runs after ``serving/warehouse_snapshot`` and reads the snapshot that asset published, so
it sits behind the same blocking checks and drift gates: when they stop the DuckDB
publication, this asset is skipped and PostgreSQL keeps its last publication. Its failure
fails the run (and so alerts) but leaves the DuckDB publication in place. See
:mod:`movie_assets.serving.postgres` for how the load stays atomic for readers.
"""

from pathlib import Path

from dagster import AssetExecutionContext, ConfigurableResource, Failure, MaterializeResult, MetadataValue, asset
from pydantic import SecretStr

from movie_assets.partitions import partition_window
from movie_assets.serving.postgres import READER_ROLE, publish_postgres, window_days
from movie_assets.serving.publish import current_snapshot


class PostgresServingResource(ConfigurableResource):
    """Where the PostgreSQL publication reads from. The database URL and the reader's password
    are secrets: read from :class:`~movie_assets.settings.Settings` when the asset runs
    (``MOVIES_SERVING_PG_URL``, ``MOVIES_SERVING_PG_READER_PASSWORD``), never part of this
    configuration, so the UI never shows them.

    Attributes:
        readers_path: the readers' DuckDB path (``MOVIES_DUCKDB_PATH``), naming the snapshot to publish.
        manifest_path: dbt's ``manifest.json``, for keys and comments.
    """

    readers_path: str
    manifest_path: str

    def secrets(self) -> tuple[SecretStr | None, SecretStr | None]:
        """``(MOVIES_SERVING_PG_URL, MOVIES_SERVING_PG_READER_PASSWORD)``, each None when unset.

        Raises:
            movie_assets.settings.InvalidSettings: the configuration no longer validates.
        """
        from movie_assets.settings import load_settings_or_explain

        settings = load_settings_or_explain()
        return settings.serving_pg_url, settings.serving_pg_reader_password


@asset(
    key=["serving", "postgres_publication"],
    group_name="serving",
    deps=[["serving", "warehouse_snapshot"]],
    kinds={"postgres"},
    owners=["team:data-engineering"],
    output_required=False,
    description=(
        "The published snapshot's gold tables (gold views frozen as tables, as in the snapshot), the run's "
        "dead letters (bronze.tmdb_dead_letter) and meta.publication in the PostgreSQL database "
        "MOVIES_SERVING_PG_URL, loaded into staging schemas and swapped in one transaction; "
        "gold.fact_movie_daily and gold.fct_movie_attribute_changes partitioned by date_id; a daily run loads its "
        "window's days and what changed since the last publication, and keeps the rest. "
        f"Primary and foreign keys and comments from the dbt manifest; role {READER_ROLE} may only "
        "connect and select. Skipped when MOVIES_SERVING_PG_URL is unset."
    ),
)
def postgres_publication(context: AssetExecutionContext, postgres_serving: PostgresServingResource):
    """Publish the readers' snapshot to PostgreSQL, or skip when no database is configured.

    Raises:
        dagster.Failure: the publication failed (the message is PostgreSQL's, without the
            password); PostgreSQL keeps its previous publication.
    """
    url, reader_password = postgres_serving.secrets()
    if url is None:
        context.log.info("MOVIES_SERVING_PG_URL is unset: not publishing to PostgreSQL")
        return
    snapshot = current_snapshot(Path(postgres_serving.readers_path))
    if snapshot is None:
        raise Failure(description=f"no published snapshot at {postgres_serving.readers_path} to publish to PostgreSQL")
    window = partition_window(context)
    try:
        publication = publish_postgres(
            snapshot=snapshot,
            url=url.get_secret_value(),
            manifest_path=Path(postgres_serving.manifest_path),
            window=window_days(window),
            reader_password=reader_password.get_secret_value() if reader_password else None,
            log=context.log.info,
        )
    except Exception as error:
        # psycopg's messages never carry the password; the URL itself is not repeated.
        raise Failure(
            description=f"PostgreSQL publication of {snapshot.name} failed, PostgreSQL keeps its previous publication: "
            f"{type(error).__name__}: {str(error).strip()[:800]}"
        ) from None
    context.log.info(
        f"published {snapshot.name} to PostgreSQL in {publication.seconds:.1f} s (swap {publication.swap_seconds:.2f} s): "
        f"{publication.loaded_rows} rows loaded, fact days loaded {len(publication.loaded_days)}, kept {len(publication.reused_days)}; "
        f"gold tables kept unchanged {len(publication.kept_tables)}"
    )
    yield MaterializeResult(
        metadata={
            "snapshot": snapshot.name,
            "tables": len(publication.row_counts),
            "rows": sum(publication.row_counts.values()),
            "loaded_rows": publication.loaded_rows,
            "loaded_days": MetadataValue.json(publication.loaded_days),
            "kept_days": len(publication.reused_days),
            "kept_tables": MetadataValue.json(publication.kept_tables),
            "kept_partitions": publication.kept_partitions,
            "validate_seconds": round(publication.validate_seconds, 3),
            "seconds": round(publication.seconds, 2),
            "swap_seconds": round(publication.swap_seconds, 3),
        }
    )
