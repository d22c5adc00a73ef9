"""Asset checks on dbt-built gold tables, beside the dbt tests that arrive through dagster-dbt.

These guard what the reports read; all are blocking, so the workbook and charts are not
rebuilt from a gold layer that breaks them.
"""

from dagster import AssetCheckResult, AssetKey, MetadataValue, asset_check
from dagster_duckdb import DuckDBResource

FACT_MOVIE_DAILY = AssetKey(["gold", "fact_movie_daily"])
DIM_MOVIE = AssetKey(["gold", "dim_movie"])


def duplicate_fact_keys(conn) -> list[tuple[int, int, int]]:
    """(date_id, movie_id, copies) of ``gold.fact_movie_daily`` keys present more than once (at most 20)."""
    return conn.execute(
        """
        SELECT date_id, movie_id, count(*) AS copies FROM gold.fact_movie_daily
        GROUP BY date_id, movie_id HAVING count(*) > 1
        ORDER BY date_id, movie_id LIMIT 20
        """
    ).fetchall()


def vote_average_out_of_range(conn, table: str) -> tuple[int, list[int]]:
    """(rows, first 20 movie_ids) of ``table`` whose vote_average is outside 0-10."""
    rows = conn.execute(
        f"SELECT movie_id FROM {table} WHERE vote_average < 0 OR vote_average > 10 ORDER BY movie_id"
    ).fetchall()
    return len(rows), [row[0] for row in rows[:20]]


def roi_without_money(conn) -> tuple[int, list[int]]:
    """(rows, first 20 movie_ids) of ``gold.dim_movie`` with an ROI but no positive budget
    or no revenue (TMDB's 0 = unknown is NULL in silver)."""
    rows = conn.execute(
        """
        SELECT movie_id FROM gold.dim_movie
        WHERE roi IS NOT NULL AND (budget_usd IS NULL OR budget_usd <= 0 OR revenue_usd IS NULL)
        ORDER BY movie_id
        """
    ).fetchall()
    return len(rows), [row[0] for row in rows[:20]]


@asset_check(
    asset=FACT_MOVIE_DAILY,
    blocking=True,
    description=(
        "Protects every daily aggregate from double counting: gold.fact_movie_daily has at most one row "
        "per (date_id, movie_id), also after a day is rebuilt."
    ),
)
def fact_movie_daily_grain_is_unique(duckdb: DuckDBResource) -> AssetCheckResult:
    with duckdb.get_connection() as conn:
        duplicates = duplicate_fact_keys(conn)
    return AssetCheckResult(
        passed=not duplicates,
        metadata={"duplicate_keys": MetadataValue.json([list(row) for row in duplicates])},
    )


@asset_check(
    asset=FACT_MOVIE_DAILY,
    blocking=True,
    description=(
        "Protects rating averages and trends: every vote_average in gold.fact_movie_daily is within 0-10 "
        "(TMDB's scale)."
    ),
)
def fact_movie_daily_vote_average_in_range(duckdb: DuckDBResource) -> AssetCheckResult:
    with duckdb.get_connection() as conn:
        count, examples = vote_average_out_of_range(conn, "gold.fact_movie_daily")
    return AssetCheckResult(passed=count == 0, metadata={"rows_out_of_range": count,
                                                         "movie_ids": MetadataValue.json(examples)})


@asset_check(
    asset=DIM_MOVIE,
    blocking=True,
    description=(
        "Protects the workbook's Vote Average column and the rating charts: every vote_average in "
        "gold.dim_movie is within 0-10."
    ),
)
def dim_movie_vote_average_in_range(duckdb: DuckDBResource) -> AssetCheckResult:
    with duckdb.get_connection() as conn:
        count, examples = vote_average_out_of_range(conn, "gold.dim_movie")
    return AssetCheckResult(passed=count == 0, metadata={"rows_out_of_range": count,
                                                         "movie_ids": MetadataValue.json(examples)})


@asset_check(
    asset=DIM_MOVIE,
    blocking=True,
    description=(
        "Protects ROI figures in the workbook, the genre ROI chart and the KPIs: gold.dim_movie has an ROI "
        "only where both a positive budget and a revenue are known (never from TMDB's 0 = unknown)."
    ),
)
def dim_movie_roi_only_with_budget_and_revenue(duckdb: DuckDBResource) -> AssetCheckResult:
    with duckdb.get_connection() as conn:
        count, examples = roi_without_money(conn)
    return AssetCheckResult(passed=count == 0, metadata={"rows_with_unfounded_roi": count,
                                                         "movie_ids": MetadataValue.json(examples)})
