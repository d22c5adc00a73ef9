"""Asset checks on the bronze TMDB tables, run for the partition being materialized.

Blocking checks stop silver, gold and the reports from being rebuilt from a day whose
bronze rows are missing or unusable, or whose bodies break the TMDB body contract
(:mod:`movie_assets.tmdb.contract`); the dead-letter share only warns.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    DailyPartitionsDefinition,
    MetadataValue,
    asset_check,
)

from movie_assets.acceptance import accepted_checks
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE, partition_row_count, tmdb_lake
from movie_assets.tmdb.contract import SCHEMA_PATH, measure_partition
from movie_assets.warehouse.lake import LakeResource

TMDB_MOVIES = AssetKey(["bronze", "tmdb_movies"])
TMDB_DEAD_LETTER = AssetKey(["bronze", "tmdb_dead_letter"])
# A day where more than this share of the movies asked for ended as fetch dead letters
# points at an API or network problem worth a look (the sample list has 10 of 310 = 3 %).
DEAD_LETTER_MAX_SHARE = 0.10


def payloads_without_id(conn, partition_date: str) -> list[int]:
    """movie_ids (at most 20) of ``partition_date`` whose payload has no ``id`` or an ``id``
    other than the row's movie_id."""
    rows = conn.execute(
        """
        SELECT movie_id FROM bronze.tmdb_movies
        WHERE partition_date = ?
          AND coalesce(try_cast(json_extract_string(payload, '$.id') AS BIGINT) <> movie_id, true)
        ORDER BY movie_id LIMIT 20
        """,
        [partition_date],
    ).fetchall()
    return [row[0] for row in rows]


def fetch_dead_letter_share(conn, partition_date: str) -> tuple[int, int, float]:
    """(fetch dead letters, movies fetched, share) for ``partition_date``: the share of the
    movies requested from TMDB that ended in ``bronze.tmdb_dead_letter`` (source ``fetch``),
    0-1; rejected ID-list rows are not requests and do not count."""
    failed = conn.execute(
        "SELECT count(*) FROM bronze.tmdb_dead_letter WHERE partition_date = ? AND source = 'fetch'",
        [partition_date],
    ).fetchone()[0]
    fetched = partition_row_count(conn, partition_date)
    requested = failed + fetched
    return failed, fetched, (failed / requested if requested else 0.0)


def build_tmdb_checks(partitions: DailyPartitionsDefinition) -> list[AssetChecksDefinition]:
    """The checks on ``bronze/tmdb_movies`` and ``bronze/tmdb_dead_letter``, partitioned like them."""

    @asset_check(
        asset=TMDB_MOVIES,
        partitions_def=partitions,
        blocking=True,
        description=(
            "Protects silver, gold and the reports from an empty day: the partition of bronze.tmdb_movies "
            "holds at least one fetched movie (an empty day means the ID list or the API failed). A "
            "changes day on which nothing changed does not materialize the partition, so this check does not run for it."
        ),
    )
    def tmdb_movies_partition_not_empty(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
        with tmdb_lake(lake.lake) as conn:
            rows = partition_row_count(conn, context.partition_key)
        return AssetCheckResult(passed=rows > 0, metadata={"partition": context.partition_key, "rows": rows})

    @asset_check(
        asset=TMDB_MOVIES,
        partitions_def=partitions,
        blocking=True,
        description=(
            "Protects silver's parsing and every movie key downstream: each payload of the partition is JSON "
            "with an `id` equal to the row's movie_id."
        ),
    )
    def tmdb_movies_payloads_have_id(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
        with tmdb_lake(lake.lake) as conn:
            bad = payloads_without_id(conn, context.partition_key)
        return AssetCheckResult(
            passed=not bad,
            metadata={"partition": context.partition_key, "bad_movie_ids": MetadataValue.json(bad)},
        )

    @asset_check(
        asset=TMDB_MOVIES,
        partitions_def=partitions,
        blocking=True,
        description=(
            "Protects silver and everything published from a changed TMDB API: every field of the body contract "
            f"({SCHEMA_PATH.name}) is carried with its declared JSON type by at least its declared share of the "
            "partition's bodies. A failure names the field, the share and three example movie ids; fields the "
            "contract does not know are listed in the metadata (a warning, not a failure). An operator accepts a "
            "real change for one run with make run ACCEPT=tmdb_movies_body_contract."
        ),
    )
    def tmdb_movies_body_contract(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
        with tmdb_lake(lake.lake) as conn:
            report = measure_partition(conn, TMDB_MOVIES_TABLE, context.partition_key)
        lines = [breach.line() for breach in report.breaches]
        accepted = "tmdb_movies_body_contract" in accepted_checks(context.run.tags)
        if report.unknown_fields:
            context.log.warning(f"TMDB bodies carry fields the contract does not declare: {report.unknown_fields}")
        return AssetCheckResult(
            passed=not lines or accepted,
            description="; ".join(lines) if lines else None,
            metadata={
                "partition": context.partition_key,
                "bodies": report.bodies,
                "breaches": MetadataValue.json(lines),
                "accepted": accepted,
                "unknown_fields": MetadataValue.json(report.unknown_fields),
            },
        )

    @asset_check(
        asset=TMDB_DEAD_LETTER,
        partitions_def=partitions,
        description=(
            "Protects the completeness of the day's data (warns, does not block): at most "
            f"{DEAD_LETTER_MAX_SHARE:.0%} of the movies requested from TMDB ended as fetch dead letters "
            "(not-found, bad payload, retries exhausted)."
        ),
    )
    def tmdb_dead_letter_share_below_threshold(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
        with tmdb_lake(lake.lake) as conn:
            failed, fetched, share = fetch_dead_letter_share(conn, context.partition_key)
        return AssetCheckResult(
            passed=share <= DEAD_LETTER_MAX_SHARE,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "partition": context.partition_key,
                "fetch_dead_letters": failed,
                "fetched": fetched,
                "share": round(share, 4),
                "threshold": DEAD_LETTER_MAX_SHARE,
            },
        )

    return [
        tmdb_movies_partition_not_empty,
        tmdb_movies_payloads_have_id,
        tmdb_movies_body_contract,
        tmdb_dead_letter_share_below_threshold,
    ]
