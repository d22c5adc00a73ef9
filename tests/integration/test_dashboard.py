"""The analysts' dashboard (movie_assets/serving/dashboard.py) on the session's sample warehouse.

Streamlit's headless ``AppTest`` runs the script section by section; one test opens it in real
headless Chromium, started as ``make dashboard`` starts it. Expected numbers are read from the
warehouse itself, so the tests check that the page shows what gold holds.

Every test reads its own copy of the warehouse (:func:`warehouse`): the app's read-only
connection must never meet another connection to the same file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from conftest import SampleRun
from movie_assets.settings import REPO_ROOT

APP = REPO_ROOT / "movie_assets" / "serving" / "dashboard.py"
TOP_MOVIES_COLUMNS = ["Rank", "Title", "Release year", "Genres", "Popularity", "Vote average", "Votes"]


@pytest.fixture
def warehouse(sample_run: SampleRun, tmp_path: Path) -> Path:
    """A copy of the sample run's warehouse in this test's tmp dir."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_run.settings.duckdb_path, path)
    return path


def run_app(monkeypatch: pytest.MonkeyPatch, duckdb_path: Path) -> AppTest:
    """The dashboard run once by ``AppTest`` over ``duckdb_path``, with no exception raised."""
    for name in list(os.environ):
        if name.startswith(("MOVIES_", "TMDB_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MOVIES_DUCKDB_PATH", str(duckdb_path))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception, [item.value for item in app.exception]
    return app


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.sql(sql).fetchall()


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def top_movies_table(app: AppTest):
    """The top-movies table as a pandas frame (the one dataframe with its columns)."""
    (table,) = [frame.value for frame in app.dataframe if list(frame.value.columns) == TOP_MOVIES_COLUMNS]
    return table


def test_header_shows_where_the_data_comes_from(monkeypatch, warehouse):
    app = run_app(monkeypatch, warehouse)
    # The sample warehouse is a published snapshot: the header names its publication.
    ((partition, run_id, source),) = query(
        warehouse, "SELECT partition_date, run_id, tmdb_source FROM meta.publication ORDER BY published_at DESC LIMIT 1"
    )
    ((movies,),) = query(warehouse, "SELECT movies_in_partition FROM gold.rpt_as_of")
    ((dead_letters,),) = query(warehouse, "SELECT count(*) FROM gold.rpt_tmdb_dead_letters")
    header = app.markdown[0].value
    assert f"TMDB day **{partition}**" in header and "published at" in header
    assert run_id in header and f"**TMDB source:** {source}" in header
    assert metrics(app)["Movies loaded"] == f"{movies:,}"
    assert metrics(app)["Dead letters of the day"] == f"{dead_letters:,}" and dead_letters > 0
    # The sample day was fetched after it (a refetch): the page marks it late and lists it.
    ((observed_date,),) = query(warehouse, "SELECT observed_date FROM gold.rpt_as_of WHERE observed_late")
    assert [item.value for item in app.warning] == [
        f"Late observation: TMDB day {partition} holds the values TMDB served on {observed_date}, "
        "fetched after that day (TMDB serves only current values)."
    ]
    assert any(
        f"observed_late in gold.fact_movie_daily): {partition} (values of {observed_date}, 300 of 300 movies)" in caption.value
        for caption in app.caption
    )


def test_kpis_show_the_latest_snapshot_and_every_kpi_list(monkeypatch, warehouse):
    app = run_app(monkeypatch, warehouse)
    ((movies, votes),) = query(warehouse, "SELECT movies, total_vote_count FROM gold.rpt_latest_snapshot_kpis")
    assert metrics(app)["Movies"] == f"{movies:,}" and metrics(app)["Total votes"] == f"{votes:,}"
    assert (
        app.dataframe[0].value["subject_name"].iloc[0]
        == query(warehouse, "SELECT subject_name FROM gold.kpi_summary WHERE kpi = 'highest_revenue' AND rank = 1")[0][0]
    )

    # The KPI list is gold's, in its reading order; which KPIs are credit-based is gold's too.
    assert app.selectbox(key="kpi").options == [
        kpi for (kpi,) in query(warehouse, "SELECT kpi FROM gold.kpi_summary GROUP BY kpi ORDER BY min(kpi_order)")
    ]
    ((director_kpi,),) = query(warehouse, "SELECT kpi FROM gold.kpi_summary WHERE credit_based AND subject_type = 'director' ORDER BY kpi LIMIT 1")
    app.selectbox(key="kpi").select(director_kpi).run()
    ((with_credits, total),) = query(
        warehouse, f"SELECT DISTINCT movies_with_credits, movies_total FROM gold.kpi_summary WHERE kpi = '{director_kpi}'"
    )
    ((rows,),) = query(warehouse, f"SELECT count(DISTINCT rank) FROM gold.kpi_summary WHERE kpi = '{director_kpi}'")
    assert len(app.dataframe[0].value) == rows > 0
    assert any(f"Covers the {with_credits} of {total} movies" in caption.value for caption in app.caption)


def test_genre_sections_show_popularity_top_10_and_the_roi_mart(monkeypatch, warehouse):
    app = run_app(monkeypatch, warehouse)
    ((genres,),) = query(warehouse, "SELECT count(*) FROM gold.mart_genre_roi")
    roi_table = next(frame.value for frame in app.dataframe if "median_roi" in frame.value.columns)
    assert len(roi_table) == genres > 0
    ((rule,),) = query(warehouse, "SELECT DISTINCT min_movies_per_genre FROM gold.mart_genre_roi")
    assert any(f"fewer than {rule} films" in caption.value for caption in app.caption)
    assert [header.value for header in app.subheader][:2] == ["Popularity by genre (top 10)", "Return on investment by genre"]


def test_top_movies_filters_change_the_table(monkeypatch, warehouse):
    app = run_app(monkeypatch, warehouse)
    ((all_movies,),) = query(warehouse, "SELECT count(*) FROM gold.vw_top_movies")
    assert len(top_movies_table(app)) == all_movies

    ((animation,),) = query(
        warehouse,
        "SELECT count(*) FROM gold.vw_top_movies JOIN gold.bridge_movie_genre USING (movie_id) "
        "JOIN gold.dim_genre USING (genre_id) WHERE genre_name = 'Animation'",
    )
    app.selectbox(key="genre").select("Animation").run()
    table = top_movies_table(app)
    assert 0 < len(table) == animation < all_movies
    assert table["Rank"].is_monotonic_increasing
    assert any(caption.value.startswith(f"Showing {animation} of {all_movies} movies") for caption in app.caption)

    ((recent_popular,),) = query(
        warehouse,
        "SELECT count(*) FROM gold.vw_top_movies JOIN gold.bridge_movie_genre USING (movie_id) "
        "JOIN gold.dim_genre USING (genre_id) WHERE genre_name = 'Animation' "
        "AND year(release_date) BETWEEN 2010 AND 2016 AND vote_count >= 3000",
    )
    app.slider(key="years").set_range(2010, 2016).run()
    app.number_input(key="min_votes").set_value(3000).run()
    assert 0 < len(top_movies_table(app)) == recent_popular < animation

    download = app.get("download_button")[0]
    assert download.proto.label == "Download these movies (CSV)"


def test_money_rating_and_provider_sections_render(monkeypatch, warehouse):
    app = run_app(monkeypatch, warehouse)
    headers = [header.value for header in app.header]
    assert headers == ["KPIs", "Genres", "Top movies", "Money and ratings", "Provider coverage", "What changed"]
    ((pairs,),) = query(warehouse, "SELECT count(*) FROM gold.movies_unified_match_summary")
    coverage = next(frame.value for frame in app.dataframe if "match_method" in frame.value.columns)
    assert len(coverage) == pairs > 0
    ((with_money,),) = query(warehouse, "SELECT count(*) FROM gold.vw_movie_latest WHERE budget_usd > 0 AND revenue_usd > 0")
    assert any(caption.value == f"{with_money} movies with known budget and revenue." for caption in app.caption)


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_no_warehouse_says_to_run_make_run(monkeypatch, tmp_path, state):
    path = tmp_path / "warehouse.duckdb"
    if state == "empty":
        duckdb.connect(str(path)).close()
    app = run_app(monkeypatch, path)
    (warning,) = app.warning
    assert "No data to show yet" in warning.value and "make run" in warning.value
    assert not app.dataframe and not app.metric


def test_a_new_publication_shows_on_refresh(monkeypatch, sample_run, tmp_path):
    """MOVIES_DUCKDB_PATH is a symlink to a published snapshot carrying meta.publication;
    retargeting it (as a publication does) shows the new publication on the next rerun."""
    snapshots = []
    for run_id in ("run-one", "run-two"):
        snapshot = tmp_path / f"{run_id}.duckdb"
        shutil.copyfile(sample_run.settings.duckdb_path, snapshot)
        with duckdb.connect(str(snapshot)) as conn:
            conn.execute(
                "UPDATE meta.publication SET run_id = ?, published_at = TIMESTAMPTZ '2026-11-20 07:00:00+00'",
                [run_id],
            )
        snapshots.append(snapshot)
    current = tmp_path / "warehouse.duckdb"
    current.symlink_to(snapshots[0])

    app = run_app(monkeypatch, current)
    assert "run `run-one`" in app.markdown[0].value and "published at 2026-11-20 07:00:00 UTC" in app.markdown[0].value

    replacement = tmp_path / "next.duckdb"
    replacement.symlink_to(snapshots[1])
    replacement.replace(current)
    app.run()
    assert "run `run-two`" in app.markdown[0].value


def test_dashboard_in_a_real_browser(warehouse, tmp_path):
    """``make dashboard`` on a free port, opened in headless Chromium: the header and Avatar
    are on the page, and choosing a genre changes the top-movies table."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from support.browser import choose_option, headless_chromium, running_dashboard, wait_for_text, wait_until_rendered
    from support.ports import free_port

    ((all_movies,),) = query(warehouse, "SELECT count(*) FROM gold.vw_top_movies")
    ((animation,),) = query(
        warehouse,
        "SELECT count(*) FROM gold.vw_top_movies JOIN gold.bridge_movie_genre USING (movie_id) "
        "JOIN gold.dim_genre USING (genre_id) WHERE genre_name = 'Animation'",
    )

    def top_movies_rows(driver) -> int:
        """Rows of the top-movies grid, from its accessibility table (the grid draws on a canvas)."""
        for grid in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"] table[role="grid"]'):
            if "Release year" in grid.get_attribute("textContent"):
                return int(grid.get_attribute("aria-rowcount")) - 1
        return -1

    def chart_titles(driver) -> set[str]:
        return {label.get_attribute("textContent") for label in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] text')}

    with running_dashboard(warehouse, free_port(), tmp_path / "dashboard.log") as url:
        with headless_chromium() as driver:
            driver.get(url)
            wait_until_rendered(driver)
            wait_for_text(driver, f"Showing {all_movies} of {all_movies} movies")
            body = driver.find_element(By.TAG_NAME, "body").text
            assert "Data as of" in body and "Dead letters of the day" in body and "Mean vote" in body
            WebDriverWait(driver, 30).until(lambda d: top_movies_rows(d) == all_movies)
            WebDriverWait(driver, 30).until(lambda d: "Avatar" in chart_titles(d))

            choose_option(driver, "Genre", "Animation")
            wait_for_text(driver, f"Showing {animation} of {all_movies} movies")
            WebDriverWait(driver, 30).until(lambda d: top_movies_rows(d) == animation)
            assert "Avatar" not in chart_titles(driver)
            driver.save_screenshot(str(tmp_path / "dashboard.png"))
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def test_what_changed_shows_the_days_changes_and_a_picked_movies_timeline(monkeypatch, warehouse):
    """One day of data: nothing changed yet; a picked movie's timeline is its versions in
    gold.dim_movie_history (one, valid from the day it was first fetched)."""
    app = run_app(monkeypatch, warehouse)
    ((changes,),) = query(warehouse, "SELECT count(*) FROM gold.rpt_changes_of_the_day")
    assert changes == 0 and any(info.value == "Nothing changed on the reported day." for info in app.info)
    ((movie_id, title, valid_from),) = query(
        warehouse, "SELECT movie_id, title, valid_from FROM gold.dim_movie_history ORDER BY revenue_usd DESC NULLS LAST LIMIT 1"
    )
    app.selectbox(key="timeline_movie").set_value(movie_id).run()
    assert not app.exception
    (timeline,) = [frame.value for frame in app.dataframe if "changed_attributes" in frame.value.columns]
    assert list(timeline["title"]) == [title] and list(timeline["valid_from"].dt.date) == [valid_from]
