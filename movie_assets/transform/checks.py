"""Match counts of ``gold.movies_unified`` as Dagster metadata.

dbt builds the counts (``gold.movies_unified_match_summary``: films present in both
sources of each pair, by match method); this asset check on ``gold/movies_unified`` reads
that finished table and attaches the counts to the check result, so every materialization
of the unified table shows them in the UI next to the dbt tests. It warns (does not fail
the run) when TMDB and a provider share no film at all, the sign of a broken match key.
"""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check
from dagster_duckdb import DuckDBResource

MATCH_SUMMARY_TABLE = "gold.movies_unified_match_summary"
PROVIDERS = ("critic", "audience", "box_office")


def match_count_metadata(rows: list[tuple[str, str, str, int]]) -> dict:
    """Dagster metadata from match-summary rows ``(source_a, source_b, match_method, films)``.

    Returns one int entry per pair, ``"<source_a>+<source_b>"`` (films in both), and
    ``by_method``, a Markdown table of every row.
    """
    pairs: dict[str, int] = {}
    for source_a, source_b, _, films in rows:
        pairs[f"{source_a}+{source_b}"] = pairs.get(f"{source_a}+{source_b}", 0) + int(films)
    table = "\n".join(
        ["| source_a | source_b | match_method | films |", "|---|---|---|---|"]
        + [f"| {a} | {b} | {method} | {films} |" for a, b, method, films in rows]
    )
    return {**pairs, "by_method": MetadataValue.md(table)}


@asset_check(
    asset=AssetKey(["gold", "movies_unified"]),
    name="match_counts",
    description="Films matched per source pair (from gold.movies_unified_match_summary) as metadata; warns when TMDB and a provider share no film.",
    blocking=False,
)
def match_counts(duckdb: DuckDBResource) -> AssetCheckResult:
    """Read ``gold.movies_unified_match_summary`` and report films per source pair."""
    with duckdb.get_connection() as conn:
        rows = conn.execute(
            f"SELECT source_a, source_b, match_method, films FROM {MATCH_SUMMARY_TABLE} ORDER BY source_a, source_b, match_method"
        ).fetchall()
    metadata = match_count_metadata(rows)
    unmatched = [p for p in PROVIDERS if not metadata.get(f"tmdb+{p}")]
    return AssetCheckResult(
        passed=not unmatched,
        severity=AssetCheckSeverity.WARN,
        description=f"no film shared by TMDB and {', '.join(unmatched)}" if unmatched else None,
        metadata=metadata,
    )
