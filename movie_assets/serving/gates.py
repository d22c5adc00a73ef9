"""Drift gates before publication: the build compared with the snapshot readers have now.

A *profile* is a small JSON-able dict measured on a DuckDB connection holding ``gold``:

- ``tables``: rows of every gold base table (``{"gold.dim_movie": 300, ...}``);
- ``columns``: for the columns readers use (:data:`PROFILED_COLUMNS`, declared here once),
  ``{"gold.dim_movie.budget_usd": {"rows", "non_null_share" (0-1), "distinct", "mean",
  "median"}}``; ``gold.fact_movie_daily`` is measured on its newest day only (a day's rows
  against the previous publication's day, and cheap at any history length);
- ``landed``: movies landed in ``bronze/tmdb_movies`` for the run's partition and for the
  newest earlier partition (from the lake's Parquet metadata).

Each publication stores its profile in ``meta.publication.profile``, so the next run compares
against it with no other state (a snapshot from before profiles is profiled on the fly).
:func:`evaluate_gates` turns two profiles into one :class:`GateResult` per check:

- ``gold_row_counts`` (blocking): a gold table lost more than ``max_row_loss`` of its rows
  (not the reports of the reported day alone, :data:`DAY_SCOPED_TABLES`);
- ``gold_column_profiles`` (blocking): a profiled column's non-null share fell by more than
  ``max_non_null_drop`` (absolute), or its distinct values per row by more than ``max_row_loss``
  (relative: a column collapsing to few values; fewer rows alone are the volume gate's);
- ``tmdb_landed_volume`` (blocking): today's landed movies below ``min_volume_ratio`` of the
  previous day's;
- ``gold_measure_shifts`` (warning only): a mean or median moved by more than
  :data:`MEASURE_SHIFT_WARN` (relative).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

#: The columns readers use, per gold table: money, votes, popularity and dates.
PROFILED_COLUMNS: dict[str, tuple[str, ...]] = {
    "gold.dim_movie": (
        "budget_usd",
        "revenue_usd",
        "profit_usd",
        "roi",
        "vote_average",
        "vote_count",
        "popularity",
        "release_date",
    ),
    "gold.fact_movie_daily": ("budget_usd", "revenue_usd", "vote_average", "vote_count", "popularity"),
    "gold.mart_genre_roi": ("avg_roi", "median_roi", "portfolio_roi", "total_budget", "total_revenue", "avg_vote_average"),
}
#: Measured on its newest day only (see the module docstring).
NEWEST_DAY_ONLY = {"gold.fact_movie_daily": "date_id"}
#: Report tables of the reported day alone (dbt_project/models/gold/reporting): a day without
#: TMDB revisions or dead letters legitimately has none after a day with many, so the row-count
#: gate leaves them out (their source tables, the history and the dead letters, are gated).
DAY_SCOPED_TABLES = frozenset({"gold.rpt_changes_of_the_day", "gold.rpt_tmdb_dead_letters"})
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")
#: A mean or median moving by more than this share of its published value is a warning.
MEASURE_SHIFT_WARN = 0.5
BLOCKING_GATES = ("gold_row_counts", "gold_column_profiles", "tmdb_landed_volume")
WARNING_GATES = ("gold_measure_shifts",)


@dataclass(frozen=True)
class GateLimits:
    """Limits of the blocking gates (settings ``MOVIES_GATE_*``).

    Attributes:
        max_non_null_drop: largest allowed fall of a column's non-null share, absolute (0-1).
        max_row_loss: largest allowed share of a table's rows (or a column's distinct
            values) lost since the last publication (0-1).
        min_volume_ratio: smallest allowed ratio of today's landed movies to the previous
            day's (0 turns the volume gate off).
    """

    max_non_null_drop: float = 0.2
    max_row_loss: float = 0.5
    min_volume_ratio: float = 0.5


@dataclass
class GateResult:
    """One gate's verdict: ``name`` (the asset check's name), ``lines`` (what moved beyond its
    limit, e.g. ``gold.dim_movie.budget_usd non-null share 0.00, published 0.59``)."""

    name: str
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.lines


def _gold_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    # estimated_size is exact for tables the pipeline writes (no deletes pending a checkpoint).
    return {
        f"gold.{name}": int(rows)
        for name, rows in conn.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'gold' AND database_name = current_database() ORDER BY 1"
        ).fetchall()
    }


def _column_profiles(conn: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> dict[str, dict]:
    types = dict(
        conn.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
            table.split("."),
        ).fetchall()
    )
    numeric = {name for name, kind in types.items() if kind in NUMERIC_TYPES or kind.startswith("DECIMAL")}
    present = [column for column in columns if column in types]
    day = NEWEST_DAY_ONLY.get(table)
    where = f"WHERE {day} = (SELECT max({day}) FROM {table})" if day else ""
    parts = ["count(*)"]
    for column in present:
        parts += [f'count("{column}")', f'approx_count_distinct("{column}")']
        parts += [f'avg("{column}")::DOUBLE', f'median("{column}")::DOUBLE'] if column in numeric else ["NULL", "NULL"]
    row = conn.execute(f"SELECT {', '.join(parts)} FROM {table} {where}").fetchone()
    rows = row[0]
    profiles = {}
    for column in columns:
        if column not in present:
            # A renamed or dropped column reads as entirely NULL: the gate names it.
            profiles[f"{table}.{column}"] = {"rows": rows, "non_null_share": 0.0, "distinct": 0, "mean": None, "median": None}
            continue
        base = 1 + 4 * present.index(column)
        non_null, distinct, mean, median = row[base : base + 4]
        profiles[f"{table}.{column}"] = {
            "rows": rows,
            "non_null_share": round(non_null / rows, 4) if rows else None,
            "distinct": int(distinct),
            "mean": mean,
            "median": median,
        }
    return profiles


def landed_volume(lake_conn: duckdb.DuckDBPyConnection, partition_date: str | None) -> dict:
    """``{"partition", "movies", "previous_partition", "previous_movies"}``: movies landed in
    ``bronze.tmdb_movies`` (a connection from :func:`movie_assets.tmdb.assets.tmdb_lake`) for
    ``partition_date`` and for the newest earlier partition (None when there is none)."""
    if partition_date is None:
        return {"partition": None, "movies": None, "previous_partition": None, "previous_movies": None}
    rows = lake_conn.execute(
        "SELECT partition_date::VARCHAR, count(*) FROM bronze.tmdb_movies WHERE partition_date <= ? "
        "GROUP BY partition_date ORDER BY partition_date DESC LIMIT 2",
        [partition_date],
    ).fetchall()
    today = rows[0][1] if rows and rows[0][0] == partition_date else 0
    earlier = [row for row in rows if row[0] != partition_date]
    return {
        "partition": partition_date,
        "movies": today,
        "previous_partition": earlier[0][0] if earlier else None,
        "previous_movies": earlier[0][1] if earlier else None,
    }


def build_profile(conn: duckdb.DuckDBPyConnection, landed: dict | None = None) -> dict:
    """The profile (see the module docstring) of the ``gold`` schema on ``conn``, with
    ``landed`` (from :func:`landed_volume`) when given. A profiled table that does not exist
    profiles as empty."""
    tables = _gold_tables(conn)
    columns: dict[str, dict] = {}
    for table, names in PROFILED_COLUMNS.items():
        if table in tables:
            columns.update(_column_profiles(conn, table, list(names)))
    return {"tables": tables, "columns": columns, "landed": landed or {}}


def _shift(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return abs(now - before) / abs(before)


def evaluate_gates(current: dict, published: dict | None, limits: GateLimits) -> dict[str, GateResult]:
    """Compare the build's profile with the published one; every gate of
    :data:`BLOCKING_GATES` and :data:`WARNING_GATES` by name. Without a published profile
    (the first publication) only the volume gate can fail."""
    results = {name: GateResult(name) for name in (*BLOCKING_GATES, *WARNING_GATES)}
    landed = current.get("landed") or {}
    if landed.get("previous_movies") and limits.min_volume_ratio > 0:
        ratio = landed["movies"] / landed["previous_movies"]
        if ratio < limits.min_volume_ratio:
            results["tmdb_landed_volume"].lines.append(
                f"bronze.tmdb_movies landed {landed['movies']} movies for {landed['partition']}, "
                f"{ratio:.2f} of {landed['previous_movies']} on {landed['previous_partition']} (limit {limits.min_volume_ratio:.2f})"
            )
    if not published:
        return results
    for table, before in sorted(published.get("tables", {}).items()):
        if table not in current["tables"] and published.get("measured_on_snapshot"):
            # A snapshot holds the build's views as tables; the build's profile counts tables only.
            continue
        if table in DAY_SCOPED_TABLES:
            continue
        now = current["tables"].get(table, 0)
        if before and (before - now) / before > limits.max_row_loss:
            results["gold_row_counts"].lines.append(
                f"{table} rows {now:,}, published {before:,} (lost {(before - now) / before:.0%}, limit {limits.max_row_loss:.0%})"
            )
    for column, before in sorted(published.get("columns", {}).items()):
        now = current["columns"].get(column)
        if now is None:
            continue
        if before["non_null_share"] is not None and now["non_null_share"] is not None:
            drop = before["non_null_share"] - now["non_null_share"]
            if drop > limits.max_non_null_drop:
                results["gold_column_profiles"].lines.append(
                    f"{column} non-null share {now['non_null_share']:.2f}, published {before['non_null_share']:.2f}"
                )
        # Distinct values per row, so that a day with fewer rows (the volume gate's business)
        # is not read as a column collapsing to a few values.
        if before["distinct"] and before["rows"] and now["rows"]:
            share_before, share_now = before["distinct"] / before["rows"], now["distinct"] / now["rows"]
            if share_now < share_before * (1 - limits.max_row_loss):
                results["gold_column_profiles"].lines.append(
                    f"{column} distinct values {now['distinct']:,} in {now['rows']:,} rows, published {before['distinct']:,} in {before['rows']:,}"
                )
        for measure in ("mean", "median"):
            shift = _shift(now[measure], before[measure])
            if shift is not None and shift > MEASURE_SHIFT_WARN:
                results["gold_measure_shifts"].lines.append(
                    f"{column} {measure} {now[measure]:.4g}, published {before[measure]:.4g} ({shift:.0%} change)"
                )
    return results


def published_profile(snapshot: Path | None) -> dict | None:
    """The profile of the snapshot readers have now: its last ``meta.publication.profile``, or
    measured on the snapshot itself when it was published before profiles were kept (then
    marked ``measured_on_snapshot``: tables the build lacks are the snapshot's frozen views,
    not compared); None when nothing was published yet.

    Raises:
        duckdb.Error: the snapshot cannot be opened read-only.
    """
    if snapshot is None:
        return None
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        has_profile = conn.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'meta' AND table_name = 'publication' AND column_name = 'profile'"
        ).fetchone()[0]
        if has_profile:
            stored = conn.execute("SELECT profile FROM meta.publication ORDER BY published_at DESC LIMIT 1").fetchone()
            if stored and stored[0]:
                return json.loads(stored[0])
        return {**build_profile(conn), "measured_on_snapshot": True}
