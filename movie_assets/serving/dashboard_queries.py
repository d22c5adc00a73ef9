"""What the analysts' dashboard (:mod:`movie_assets.serving.dashboard`) reads, without Streamlit.

Every number comes from a gold (or ``meta``) table as built by dbt; this module only selects,
filters and sorts them. The warehouse is opened read-only, everything a page needs is read
in one batch (:func:`load_dashboard`) and the connection is closed at once, so the dashboard
holds the file for well under a second per refresh and never blocks a run for long.

Which publication is shown is :func:`publication_key`: the resolved path of
``MOVIES_DUCKDB_PATH`` and its modification time. ``MOVIES_DUCKDB_PATH`` is a link to an
immutable published snapshot, so a new publication changes the resolved path; for a plain
warehouse file from before published snapshots, every write changes the time. Either way the
page's cache misses and the next refresh reads the new data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from movie_assets.settings import InvalidSettings, Settings, describe_settings_error
from movie_assets.warehouse.duckdb_resource import is_lock_conflict

#: Gold relations the dashboard cannot do without; a warehouse lacking one is "not built yet".
REQUIRED_TABLES = (
    "gold.rpt_as_of",
    "gold.rpt_late_observations",
    "gold.rpt_tmdb_dead_letters",
    "gold.rpt_latest_snapshot_kpis",
    "gold.kpi_summary",
    "gold.vw_genre_popularity",
    "gold.mart_genre_roi",
    "gold.vw_top_movies",
    "gold.vw_movie_latest",
    "gold.bridge_movie_genre",
    "gold.dim_genre",
    "gold.movies_unified_match_summary",
)

TOP_GENRES = 10

#: What a movie's timeline shows of ``gold.dim_movie_history``: dates, the money and
#: descriptive attributes (USD, minutes), and which attributes each version changed.
HISTORY_COLUMNS = (
    "movie_id",
    "valid_from",
    "valid_to",
    "last_seen_date",
    "title",
    "status",
    "release_date",
    "runtime_minutes",
    "budget_usd",
    "revenue_usd",
    "genres",
    "changed_attributes",
)


class WarehouseNotReady(Exception):
    """The warehouse file is missing, empty or lacks a gold table: nothing to show yet.
    The message says what is missing."""


class WarehouseBusy(Exception):
    """Another process holds the warehouse file for writing (a run), so it cannot be read now."""


@dataclass(frozen=True)
class Header:
    """What the page is showing and where it came from.

    Attributes:
        partition_date: the reported TMDB day.
        published_at: when the data was published (``meta.publication``) or, before
            publications exist, when the reported day was last fetched; UTC, None if unknown.
        published_label: ``"published at"`` or ``"fetched at"``, saying which of the two.
        run_id: the Dagster run that published (or fetched) it; None if unknown.
        tmdb_source: ``live``, ``snapshot`` or ``live,snapshot``; None if unknown.
        observed_date: the UTC date whose TMDB values the reported day holds; None if unknown.
        observed_late: True when they were fetched after the day (a late observation), None if unknown.
        movies_loaded: distinct movies fetched for the reported day (count).
        dead_letters: the reported day's dead letters (count).
        dead_letters_by_reason: columns ``reason``, ``dead_letters``; most frequent first.
    """

    partition_date: date | None
    published_at: datetime | None
    published_label: str
    run_id: str | None
    tmdb_source: str | None
    observed_date: date | None
    observed_late: bool | None
    movies_loaded: int
    dead_letters: int
    dead_letters_by_reason: pd.DataFrame


@dataclass(frozen=True)
class DashboardData:
    """Everything one page render shows, read in one batch (pandas frames, gold column names).

    Attributes:
        header: :class:`Header`.
        snapshot: one row of ``gold.rpt_latest_snapshot_kpis`` as a dict (``snapshot_date``,
            ``movies``, ``rated_movies``, ``mean_vote_average`` 0-10, ``total_vote_count``).
        kpis: ``gold.kpi_summary`` ordered by kpi_order (gold's reading order), rank, metric;
            KPI names, units and which KPIs are credit-based (``credit_based``) come from it.
        genre_popularity: the :data:`TOP_GENRES` rows of ``gold.vw_genre_popularity`` with the
            highest ``avg_popularity``, most popular first.
        genre_roi: ``gold.mart_genre_roi`` ordered by ``portfolio_roi_rank``.
        min_movies_per_genre: films of known budget and revenue a genre needs to be in
            ``mart_genre_roi`` (its column ``min_movies_per_genre``); None when it has no row.
        top_movies: ``gold.vw_top_movies`` (the latest snapshot day's movies) by
            ``popularity_rank``, with ``release_year`` (from ``release_date``) added.
        movie_genres: ``movie_id``, ``genre_name`` from ``gold.bridge_movie_genre`` × ``dim_genre``.
        movies_latest: ``gold.vw_movie_latest``: title, money in USD, popularity, vote_average
            0-10, vote_count, is_current.
        match_summary: ``gold.movies_unified_match_summary`` (source_a, source_b, match_method, films).
        late_days: ``gold.rpt_late_observations`` (snapshot_date, first_observed_date,
            last_observed_date, late_movies, movies) oldest first: the days holding values
            fetched after them.
        changes: ``gold.rpt_changes_of_the_day`` (movie_id, title, attribute, old_value,
            new_value, change_kind, change_date) sorted by movie and attribute; empty when the
            warehouse predates the history.
        history: :data:`HISTORY_COLUMNS` of ``gold.dim_movie_history`` (one row per movie
            version) by movie_id, valid_from; empty when the warehouse predates the history.
    """

    header: Header
    snapshot: dict
    kpis: pd.DataFrame
    genre_popularity: pd.DataFrame
    genre_roi: pd.DataFrame
    min_movies_per_genre: int | None
    top_movies: pd.DataFrame
    movie_genres: pd.DataFrame
    movies_latest: pd.DataFrame
    match_summary: pd.DataFrame
    late_days: pd.DataFrame
    changes: pd.DataFrame
    history: pd.DataFrame

    @property
    def genres(self) -> list[str]:
        """Genre names of the latest snapshot's movies, alphabetical."""
        return sorted(self.movie_genres["genre_name"].dropna().unique())


def dashboard_settings() -> Settings:
    """:class:`Settings` from the environment and ``.env`` for the dashboard.

    The dashboard never talks to TMDB, so ``TMDB_SOURCE=live`` without credentials must not
    stop it from showing the warehouse: the source is pinned to ``snapshot`` here.

    Raises:
        InvalidSettings: another variable is malformed (message names it, never its value).
    """
    try:
        return Settings(tmdb_source="snapshot")
    except ValueError as error:
        raise InvalidSettings(describe_settings_error(error)) from None


def publication_key(duckdb_path: Path) -> tuple[str, int] | None:
    """``(resolved path, modification time in ns)`` of the warehouse, None when it is missing.
    Changes with every new publication (see the module docstring); reads no data."""
    try:
        real = Path(os.path.realpath(duckdb_path))
        return str(real), real.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def load_dashboard(duckdb_path: Path) -> DashboardData:
    """Read everything the dashboard shows from the warehouse at ``duckdb_path``, read-only,
    closing the connection before returning.

    Raises:
        WarehouseNotReady: the file is missing, lacks a table of :data:`REQUIRED_TABLES` or
            holds no TMDB day yet.
        WarehouseBusy: a run holds the file for writing.
    """
    if not Path(duckdb_path).exists():
        raise WarehouseNotReady(f"there is no warehouse at {duckdb_path} yet")
    try:
        conn = duckdb.connect(str(duckdb_path), read_only=True)
    except duckdb.IOException as error:
        if is_lock_conflict(error):
            raise WarehouseBusy(f"{duckdb_path} is being written by a run") from None
        raise
    try:
        return _read(conn)
    finally:
        conn.close()


def _read(conn: duckdb.DuckDBPyConnection) -> DashboardData:
    present = {f"{schema}.{name}" for schema, name in conn.sql("SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
    missing = [table for table in REQUIRED_TABLES if table not in present]
    if missing:
        raise WarehouseNotReady(f"the warehouse has no {', '.join(missing)} yet")
    as_of = _one_row(conn, "SELECT * FROM gold.rpt_as_of")
    if as_of is None or as_of["partition_date"] is None:
        raise WarehouseNotReady("the warehouse holds no TMDB day yet")

    header = _header(conn, as_of, has_publication="meta.publication" in present)
    top_movies = conn.sql("SELECT * FROM gold.vw_top_movies ORDER BY popularity_rank").df()
    top_movies["release_year"] = pd.to_datetime(top_movies["release_date"]).dt.year.astype("Int64")
    has_history = "gold.dim_movie_history" in present and "gold.rpt_changes_of_the_day" in present
    genre_roi = conn.sql("SELECT * FROM gold.mart_genre_roi ORDER BY portfolio_roi_rank, genre_name").df()
    return DashboardData(
        header=header,
        snapshot=_one_row(conn, "SELECT * FROM gold.rpt_latest_snapshot_kpis") or {},
        kpis=conn.sql("SELECT * FROM gold.kpi_summary ORDER BY kpi_order, rank, metric").df(),
        genre_popularity=conn.sql(
            f"SELECT * FROM gold.vw_genre_popularity ORDER BY avg_popularity DESC NULLS LAST, genre_name LIMIT {TOP_GENRES}"
        ).df(),
        genre_roi=genre_roi,
        min_movies_per_genre=None if genre_roi.empty else int(genre_roi["min_movies_per_genre"].iloc[0]),
        top_movies=top_movies,
        movie_genres=conn.sql(
            "SELECT bridge.movie_id, genre.genre_name FROM gold.bridge_movie_genre AS bridge JOIN gold.dim_genre AS genre USING (genre_id)"
        ).df(),
        movies_latest=conn.sql(
            "SELECT movie_id, title, budget_usd, revenue_usd, popularity, vote_average, vote_count, is_current "
            "FROM gold.vw_movie_latest ORDER BY movie_id"
        ).df(),
        match_summary=conn.sql(
            "SELECT source_a, source_b, match_method, films FROM gold.movies_unified_match_summary ORDER BY source_a, source_b, films DESC"
        ).df(),
        late_days=conn.sql("SELECT * FROM gold.rpt_late_observations ORDER BY snapshot_date").df(),
        changes=conn.sql(
            "SELECT movie_id, title, attribute, old_value, new_value, change_kind, change_date "
            "FROM gold.rpt_changes_of_the_day ORDER BY movie_id, attribute"
        ).df()
        if has_history
        else pd.DataFrame(),
        history=conn.sql(f"SELECT {', '.join(HISTORY_COLUMNS)} FROM gold.dim_movie_history ORDER BY movie_id, valid_from").df()
        if has_history
        else pd.DataFrame(columns=list(HISTORY_COLUMNS)),
    )


def _header(conn: duckdb.DuckDBPyConnection, as_of: dict, has_publication: bool) -> Header:
    by_reason = conn.sql(
        "SELECT reason, count(*) AS dead_letters FROM gold.rpt_tmdb_dead_letters GROUP BY reason ORDER BY dead_letters DESC, reason"
    ).df()
    publication = _one_row(conn, "SELECT * FROM meta.publication ORDER BY published_at DESC LIMIT 1") if has_publication else None
    if publication is None:
        provenance = dict(
            partition_date=as_of["partition_date"],
            published_at=as_of["fetched_at"],
            published_label="fetched at",
            run_id=as_of["fetched_by_run_id"],
            tmdb_source=as_of["tmdb_source"],
        )
    else:
        provenance = dict(
            partition_date=publication.get("partition_date") or as_of["partition_date"],
            published_at=publication.get("published_at"),
            published_label="published at",
            run_id=publication.get("run_id"),
            tmdb_source=publication.get("tmdb_source") or as_of["tmdb_source"],
        )
    late = as_of.get("observed_late")
    return Header(
        **provenance,
        observed_date=as_of.get("observed_date"),
        observed_late=None if late is None else bool(late),
        movies_loaded=int(as_of["movies_in_partition"] or 0),
        dead_letters=int(by_reason["dead_letters"].sum()),
        dead_letters_by_reason=by_reason,
    )


def late_days_text(data: DashboardData) -> str | None:
    """The late days as one sentence for the page ("2026-11-19 (values of 2026-12-04, 300 of
    300 movies); …"), None when every day was observed on time."""
    if data.late_days.empty:
        return None
    return "; ".join(
        f"{row.snapshot_date:%Y-%m-%d} (values of {row.last_observed_date:%Y-%m-%d}, {row.late_movies:,} of {row.movies:,} movies)"
        for row in data.late_days.itertuples()
    )


def _one_row(conn: duckdb.DuckDBPyConnection, sql: str) -> dict | None:
    relation = conn.sql(sql)
    rows = relation.limit(1).fetchall()
    return dict(zip(relation.columns, rows[0], strict=True)) if rows else None


def filter_top_movies(
    data: DashboardData,
    genre: str | None = None,
    years: tuple[int, int] | None = None,
    min_votes: int = 0,
) -> pd.DataFrame:
    """The rows of ``data.top_movies`` an analyst asked for, in popularity rank order.

    Args:
        genre: keep movies having this genre (``dim_genre.genre_name``); None keeps all.
        years: keep movies released in this inclusive range of years; movies without a
            release date are dropped by any range. None keeps all.
        min_votes: keep movies with at least this many votes (``vote_count``).
    """
    movies = data.top_movies
    keep = movies["vote_count"].fillna(0) >= min_votes
    if genre is not None:
        with_genre = data.movie_genres.loc[data.movie_genres["genre_name"] == genre, "movie_id"]
        keep &= movies["movie_id"].isin(with_genre)
    if years is not None:
        keep &= movies["release_year"].between(years[0], years[1]).fillna(False).astype(bool)
    return movies.loc[keep].reset_index(drop=True)


def movie_timeline(data: DashboardData, movie_id: int) -> pd.DataFrame:
    """The versions of one movie in ``data.history`` (:data:`HISTORY_COLUMNS` without
    movie_id), oldest first, with ``changed_attributes`` joined by ', '; empty for a movie
    the history lacks."""
    versions = data.history.loc[data.history["movie_id"] == movie_id].drop(columns="movie_id")
    changed = versions["changed_attributes"].map(lambda names: ", ".join(names) if names is not None else "")
    return versions.assign(changed_attributes=changed).reset_index(drop=True)


def kpi_table(data: DashboardData, kpi: str) -> pd.DataFrame:
    """One KPI list of ``gold.kpi_summary``: rank, subject_name, subject_type, metric, value,
    unit, in rank order."""
    rows = data.kpis.loc[data.kpis["kpi"] == kpi]
    return rows[["rank", "subject_name", "subject_type", "metric", "value", "unit"]].reset_index(drop=True)


def credit_coverage(data: DashboardData, kpi: str) -> tuple[int, int] | None:
    """``(movies_with_credits, movies_total)`` for a credit-based KPI (gold's ``credit_based``),
    None for the others."""
    rows = data.kpis.loc[data.kpis["kpi"] == kpi]
    if rows.empty or not rows["credit_based"].iloc[0]:
        return None
    return int(rows["movies_with_credits"].iloc[0]), int(rows["movies_total"].iloc[0])


def format_kpi_value(value: float | None, unit: str) -> str:
    """A ``gold.kpi_summary`` value as text by its unit: USD ``$1,234,567``, ratio ``123.4 %``
    (1.0 = +100 %), score_0_10 and tmdb_popularity with one decimal, movies as a count;
    ``n/a`` for NULL."""
    if value is None or pd.isna(value):
        return "n/a"
    if unit == "USD":
        return f"${value:,.0f}"
    if unit == "ratio":
        return f"{value:.1%}".replace("%", " %")
    if unit == "movies":
        return f"{value:,.0f}"
    return f"{value:,.1f}"
