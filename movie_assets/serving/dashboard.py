"""The analysts' dashboard over the warehouse (``make dashboard``; Streamlit script).

Reads ``MOVIES_DUCKDB_PATH`` read-only through :mod:`movie_assets.serving.dashboard_queries`
(gold tables only) and shows, top to bottom: where the data comes from, the KPIs, genres
(popularity, ROI), top movies (filterable table with CSV download), revenue vs budget and
popularity vs rating, provider coverage, and what changed on the reported day (with one
movie's timeline when a movie is picked). A missing or unbuilt warehouse gets a page that
says to run ``make run``.

What was read is cached per publication (:func:`~movie_assets.serving.dashboard_queries.publication_key`),
so a refresh after a run shows the new data without restarting the app.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from movie_assets.serving.dashboard_queries import (
    TOP_GENRES,
    DashboardData,
    WarehouseBusy,
    WarehouseNotReady,
    credit_coverage,
    dashboard_settings,
    filter_top_movies,
    format_kpi_value,
    kpi_table,
    late_days_text,
    load_dashboard,
    movie_timeline,
    publication_key,
)
from movie_assets.settings import InvalidSettings

TMDB_ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
ALL_GENRES = "All genres"
TOP_CHART_MOVIES = 20
TOP_MOVIE_COLUMNS = {
    "popularity_rank": "Rank",
    "title": "Title",
    "release_year": "Release year",
    "genres": "Genres",
    "popularity": "Popularity",
    "vote_average": "Vote average",
    "vote_count": "Votes",
}


@st.cache_data(max_entries=2, show_spinner="Reading the warehouse…")
def _load(resolved_path: str, modified_ns: int) -> DashboardData:
    """:func:`load_dashboard` of one publication; ``modified_ns`` is only part of the cache key."""
    return load_dashboard(Path(resolved_path))


def _not_ready(reason: str) -> None:
    st.title("Movie analytics")
    st.warning(
        f"No data to show yet: {reason}.\n\nBuild the warehouse with `make run` (the whole pipeline for today's partition), then refresh this page."
    )


def _header(data: DashboardData) -> None:
    header = data.header
    st.title("Movie analytics")
    published = f"{header.published_at:%Y-%m-%d %H:%M:%S} UTC" if header.published_at else "unknown"
    st.markdown(
        f"**Data as of** TMDB day **{header.partition_date}**, {header.published_label} {published}, "
        f"run `{header.run_id or 'unknown'}` · **TMDB source:** {header.tmdb_source or 'unknown'}"
    )
    if header.observed_late:
        st.warning(
            f"Late observation: TMDB day {header.partition_date} holds the values TMDB served on "
            f"{header.observed_date}, fetched after that day (TMDB serves only current values)."
        )
    late_days = late_days_text(data)
    if late_days:
        st.caption(f"Days holding values fetched after them (observed_late in gold.fact_movie_daily): {late_days}")
    loaded, dead = st.columns(2)
    loaded.metric("Movies loaded", f"{header.movies_loaded:,}")
    dead.metric("Dead letters of the day", f"{header.dead_letters:,}")
    if header.dead_letters:
        st.caption("Dead letters by reason: " + ", ".join(f"{row.reason} {row.dead_letters}" for row in header.dead_letters_by_reason.itertuples()))


def _kpis(data: DashboardData) -> None:
    st.header("KPIs")
    snapshot = data.snapshot
    st.caption(f"Latest snapshot day: {snapshot.get('snapshot_date')}")
    movies, vote, votes = st.columns(3)
    movies.metric("Movies", f"{snapshot.get('movies', 0):,}")
    mean_vote = snapshot.get("mean_vote_average")
    vote.metric("Mean vote (0-10)", "n/a" if mean_vote is None or pd.isna(mean_vote) else f"{mean_vote:.2f}")
    votes.metric("Total votes", f"{snapshot.get('total_vote_count', 0):,}")

    kpi_names = list(dict.fromkeys(data.kpis["kpi"]))
    if not kpi_names:
        st.info("gold.kpi_summary is empty.")
        return
    # gold.kpi_summary's reading order (kpi_order): its first KPI is the default.
    kpi = st.selectbox("KPI list (gold.kpi_summary)", kpi_names, index=0, key="kpi")
    table = kpi_table(data, kpi)
    table["value"] = [format_kpi_value(value, unit) for value, unit in zip(table["value"], table["unit"], strict=True)]
    st.dataframe(table, hide_index=True, width="stretch")
    coverage = credit_coverage(data, kpi)
    if coverage:
        st.caption(f"Covers the {coverage[0]} of {coverage[1]} movies whose cast and crew are known.")


def _genres(data: DashboardData) -> None:
    st.header("Genres")
    popularity, roi = st.columns(2)
    with popularity:
        st.subheader(f"Popularity by genre (top {TOP_GENRES})")
        chart = (
            alt.Chart(data.genre_popularity)
            .mark_bar()
            .encode(
                x=alt.X("avg_popularity:Q", title="Mean TMDB popularity"),
                y=alt.Y("genre_name:N", sort="-x", title=None),
                tooltip=[
                    alt.Tooltip("genre_name:N", title="Genre"),
                    alt.Tooltip("movie_count:Q", title="Movies"),
                    alt.Tooltip("avg_popularity:Q", title="Mean popularity", format=".1f"),
                    alt.Tooltip("avg_vote_average:Q", title="Mean vote", format=".2f"),
                    alt.Tooltip("total_vote_count:Q", title="Votes", format=","),
                ],
            )
        )
        st.altair_chart(chart, width="stretch")
    with roi:
        st.subheader("Return on investment by genre")
        long = data.genre_roi.melt(id_vars=["genre_name", "total_movies"], value_vars=["median_roi", "portfolio_roi"], var_name="measure")
        chart = (
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("value:Q", title="ROI (1.0 = +100 %)", axis=alt.Axis(format="%")),
                y=alt.Y("genre_name:N", sort=list(data.genre_roi["genre_name"]), title=None),
                yOffset="measure:N",
                color=alt.Color("measure:N", title=None),
                tooltip=[
                    alt.Tooltip("genre_name:N", title="Genre"),
                    alt.Tooltip("measure:N", title="Measure"),
                    alt.Tooltip("value:Q", title="ROI", format=".0%"),
                    alt.Tooltip("total_movies:Q", title="Films"),
                ],
            )
        )
        st.altair_chart(chart, width="stretch")
    rule = (
        f"Genres with fewer than {data.min_movies_per_genre} films of known budget and revenue are left out"
        if data.min_movies_per_genre is not None
        else "Genres with too few films of known budget and revenue are left out"
    )
    st.caption(
        f"gold.mart_genre_roi: films with known budget and revenue only; a film counts in each of its genres. "
        f"{rule}. Portfolio ROI = total revenue / total budget - 1; the median is not skewed by tiny budgets."
    )
    st.dataframe(
        data.genre_roi[["genre_name", "total_movies", "median_roi", "portfolio_roi", "avg_roi", "pct_profitable"]],
        hide_index=True,
        width="stretch",
        column_config={
            "genre_name": "Genre",
            "total_movies": "Films",
            "median_roi": st.column_config.NumberColumn("Median ROI", format="percent"),
            "portfolio_roi": st.column_config.NumberColumn("Portfolio ROI", format="percent"),
            "avg_roi": st.column_config.NumberColumn("Mean ROI", format="percent"),
            "pct_profitable": st.column_config.NumberColumn("Profitable", format="percent"),
        },
    )


def _top_movies(data: DashboardData) -> None:
    st.header("Top movies")
    movies = data.top_movies
    years = movies["release_year"].dropna()
    genre_col, year_col, votes_col = st.columns(3)
    genre = genre_col.selectbox("Genre", [ALL_GENRES, *data.genres], key="genre")
    year_range = None
    if not years.empty:
        first, last = int(years.min()), int(years.max())
        chosen = year_col.slider("Release years", first, max(last, first + 1), (first, max(last, first + 1)), key="years")
        year_range = None if chosen == (first, max(last, first + 1)) else chosen
    min_votes = votes_col.number_input("Minimum votes", min_value=0, value=0, step=100, key="min_votes")
    shown = filter_top_movies(data, genre=None if genre == ALL_GENRES else genre, years=year_range, min_votes=int(min_votes))[
        list(TOP_MOVIE_COLUMNS)
    ].rename(columns=TOP_MOVIE_COLUMNS)
    st.caption(
        f"Showing {len(shown)} of {len(movies)} movies of the latest snapshot day (gold.vw_top_movies), "
        "by popularity rank; click a column header to sort."
    )
    if shown.empty:
        st.info("No movie matches these filters.")
        return
    chart = (
        alt.Chart(shown.head(TOP_CHART_MOVIES))
        .mark_bar()
        .encode(
            x=alt.X("Popularity:Q", title="TMDB popularity"),
            y=alt.Y("Title:N", sort="-x", title=None),
            color=alt.Color("Vote average:Q", scale=alt.Scale(scheme="viridis")),
            tooltip=list(TOP_MOVIE_COLUMNS.values()),
        )
    )
    st.altair_chart(chart, width="stretch")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "Popularity": st.column_config.NumberColumn(format="%.1f"),
            "Vote average": st.column_config.NumberColumn(format="%.1f"),
            "Votes": st.column_config.NumberColumn(format="localized"),
            "Release year": st.column_config.NumberColumn(format="%d"),
        },
    )
    st.download_button(
        "Download these movies (CSV)",
        shown.to_csv(index=False).encode("utf-8"),
        file_name="top_movies.csv",
        mime="text/csv",
        key="top_movies_csv",
    )


def _scatter(data: DashboardData) -> None:
    st.header("Money and ratings")
    money_col, rating_col = st.columns(2)
    movies = data.movies_latest
    with money_col:
        st.subheader("Revenue vs budget")
        # Log axes cannot place 0; budget and revenue are NULL when unknown (gold.dim_movie).
        money = movies.loc[(movies["budget_usd"] > 0) & (movies["revenue_usd"] > 0)]
        chart = (
            alt.Chart(money)
            .mark_circle(opacity=0.6)
            .encode(
                x=alt.X("budget_usd:Q", title="Budget (USD, log)", scale=alt.Scale(type="log")),
                y=alt.Y("revenue_usd:Q", title="Revenue (USD, log)", scale=alt.Scale(type="log")),
                tooltip=[
                    alt.Tooltip("title:N", title="Title"),
                    alt.Tooltip("budget_usd:Q", title="Budget", format="$,.0f"),
                    alt.Tooltip("revenue_usd:Q", title="Revenue", format="$,.0f"),
                ],
            )
            .interactive()
        )
        st.altair_chart(chart, width="stretch")
        st.caption(f"{len(money)} movies with known budget and revenue.")
    with rating_col:
        st.subheader("Popularity vs rating")
        current = movies.loc[movies["is_current"] & movies["vote_average"].notna()]
        chart = (
            alt.Chart(current)
            .mark_circle(opacity=0.6)
            .encode(
                x=alt.X("vote_average:Q", title="Vote average (0-10)", scale=alt.Scale(zero=False)),
                y=alt.Y("popularity:Q", title="TMDB popularity"),
                size=alt.Size("vote_count:Q", title="Votes"),
                tooltip=[
                    alt.Tooltip("title:N", title="Title"),
                    alt.Tooltip("vote_average:Q", title="Vote average", format=".1f"),
                    alt.Tooltip("vote_count:Q", title="Votes", format=","),
                    alt.Tooltip("popularity:Q", title="Popularity", format=".1f"),
                ],
            )
            .interactive()
        )
        st.altair_chart(chart, width="stretch")
        st.caption(f"{len(current)} rated movies of the latest snapshot day.")


def _providers(data: DashboardData) -> None:
    st.header("Provider coverage")
    summary = data.match_summary.assign(pair=lambda frame: frame["source_a"] + " × " + frame["source_b"])
    chart = (
        alt.Chart(summary)
        .mark_bar()
        .encode(
            x=alt.X("films:Q", title="Films in both sources"),
            y=alt.Y("pair:N", title=None),
            color=alt.Color("match_method:N", title="Matched by"),
            tooltip=["pair:N", "match_method:N", alt.Tooltip("films:Q", format=",")],
        )
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "gold.movies_unified: films present in both sources of a pair, by how the later source matched "
        "(imdb_id, then title and release year, then title and year within one)."
    )
    st.dataframe(summary[["source_a", "source_b", "match_method", "films"]], hide_index=True, width="stretch")


def _what_changed(data: DashboardData) -> None:
    st.header("What changed")
    changes = data.changes
    day = data.header.partition_date
    st.caption(
        f"Tracked attributes (title, status, release date, runtime, budget, revenue, genres, collection, "
        f"IMDb id) that changed on {day} (gold.rpt_changes_of_the_day); money in USD. The full history "
        "is gold.dim_movie_history, and gold.movies_as_of(day) gives every movie as it was on a day."
    )
    if changes.empty:
        st.info("Nothing changed on the reported day.")
    else:
        st.dataframe(changes, hide_index=True, width="stretch")
    movies = data.movies_latest.set_index("movie_id")["title"]
    picked = st.selectbox(
        "Timeline of a movie",
        [None, *movies.index],
        format_func=lambda movie_id: "Pick a movie" if movie_id is None else f"{movies[movie_id]} ({movie_id})",
        key="timeline_movie",
    )
    if picked is not None:
        st.dataframe(
            movie_timeline(data, int(picked)),
            hide_index=True,
            width="stretch",
            column_config={
                "budget_usd": st.column_config.NumberColumn("Budget (USD)", format="localized"),
                "revenue_usd": st.column_config.NumberColumn("Revenue (USD)", format="localized"),
            },
        )


def main() -> None:
    st.set_page_config(page_title="Movie analytics", layout="wide")
    try:
        settings = dashboard_settings()
    except InvalidSettings as error:
        st.error(f"The configuration is invalid: {error}")
        return
    key = publication_key(settings.duckdb_path)
    if key is None:
        _not_ready(f"there is no warehouse at {settings.duckdb_path}")
        return
    try:
        data = _load(*key)
    except WarehouseNotReady as error:
        _not_ready(str(error))
        return
    except WarehouseBusy:
        # Only a plain warehouse file from before published snapshots is ever written in place
        # (and locked) by a run: keep showing what this browser session last read.
        data = st.session_state.get("last_data")
        if data is None:
            _not_ready("a run is writing the warehouse right now; refresh in a moment")
            return
        st.info("A run is writing the warehouse right now; showing the data read before it. Refresh later.")
    st.session_state["last_data"] = data
    _header(data)
    _kpis(data)
    _genres(data)
    _top_movies(data)
    _scatter(data)
    _providers(data)
    _what_changed(data)
    st.caption(TMDB_ATTRIBUTION)


main()
