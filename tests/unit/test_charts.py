"""Chart functions without dbt: every chart a 1200x800 PNG drawn from hand-made arrays (written
atomically, no temp file left), empty inputs still drawing a titled, labelled chart that says
there is no data, :func:`png_size` rejecting other files, :func:`usd_label`, the image embedded
in the materialization metadata, and the franchise and top-directors assets with their PNG
checks on tiny hand-made warehouses holding only their gold table. The sample run's charts are tested in
tests/integration/test_reports.py."""

import base64
from pathlib import Path

import duckdb
import pytest
from dagster import materialize
from dagster_duckdb import DuckDBResource
from matplotlib.figure import Figure
from matplotlib.text import Text

from movie_assets.paths import PipelinePaths
from movie_assets.reports import charts
from movie_assets.reports import checks as report_checks


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("charts")
    return {
        "revenue_vs_budget": charts.plot_revenue_vs_budget(
            [237e6, 30e6, 5e6, None, 0], [2.78e9, 10e6, 60e6, 1e6, 5e6], folder / "revenue_vs_budget.png"
        ),
        "roi_by_genre": charts.plot_roi_by_genre(
            ["Action", "Drama", "Horror"], [1.5, 0.8, 3.0], [1.7, 0.5, 2.2], [140, 88, 15], folder / "roi_by_genre.png"
        ),
        "popularity_vs_rating": charts.plot_popularity_vs_rating(
            [7.2, 6.1, 8.3, 5.0], [150.4, 60.2, 875.6, 1.0], [11800, 2000, 9000, 0], folder / "popularity_vs_rating.png"
        ),
        "yearly_revenue": charts.plot_yearly_revenue([1997, 2009, 2015], [1.8e9, 9.0e9, 1.6e10], [3, 14, 36], folder / "yearly_revenue.png"),
        "franchise_vs_standalone": charts.plot_franchise_vs_standalone(
            ["Franchise", "Standalone", "Unknown"],
            [40, 120, 140],
            [8e8, 2.5e8, None],
            [3.2, 1.4, 2.0],
            [7.1, 6.8, 6.5],
            folder / "franchise_vs_standalone.png",
        ),
        "top_directors_by_revenue": charts.plot_top_directors_by_revenue(
            ["James Cameron", "Joss Whedon", "Christopher Nolan"],
            [4.63e9, 2.92e9, 2.36e9],
            [2, 2, 3],
            101,
            300,
            folder / "top_directors_by_revenue.png",
        ),
    }


def test_every_chart_is_a_1200_by_800_png(drawn: dict[str, Path]):
    for name, path in drawn.items():
        assert path.name == f"{name}.png"
        assert path.read_bytes().startswith(charts.PNG_SIGNATURE)
        assert charts.png_size(path) == (1200, 800), name
        assert path.stat().st_size > 20_000, name  # a blank 1200x800 PNG is ~5 KB
        assert not list(path.parent.glob(".*.tmp"))


# Per chart: its function, empty inputs, the title drawn and the text saying there is no data.
EMPTY = {
    "revenue_vs_budget": (
        charts.plot_revenue_vs_budget,
        ([], []),
        "Revenue vs budget (0 movies with both known)",
        "No movies with both budget and revenue",
    ),
    "roi_by_genre": (
        charts.plot_roi_by_genre,
        ([], [], [], []),
        "Return on investment by genre",
        "No genre has enough films with budget and revenue",
    ),
    "popularity_vs_rating": (charts.plot_popularity_vs_rating, ([], [], []), "Popularity vs rating (0 movies with votes)", "No movies with votes"),
    "yearly_revenue": (charts.plot_yearly_revenue, ([], [], []), "Worldwide revenue and films released per year", "No release years"),
    "top_directors_by_revenue": (
        charts.plot_top_directors_by_revenue,
        ([], [], [], None, None),
        "Top directors by total worldwide revenue",
        "No director has enough films with known revenue and credits",
    ),
}


@pytest.mark.parametrize("name", EMPTY)
def test_empty_inputs_still_draw_a_labelled_chart(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    plot, inputs, title, message = EMPTY[name]
    figures: list[tuple[str, str, str, list[str]]] = []
    save = charts._save

    def recording_save(figure: Figure, path: Path) -> Path:
        # The figure is closed once saved: read what it shows before that.
        axes = figure.axes[0]
        # A chart with a subtitle has its title above the axes (the figure's suptitle).
        figures.append(
            (figure.get_suptitle() or axes.get_title(), axes.get_xlabel(), axes.get_ylabel(), [text.get_text() for text in figure.findobj(Text)])
        )
        return save(figure, path)

    monkeypatch.setattr(charts, "_save", recording_save)
    path = plot(*inputs, tmp_path / f"{name}.png")
    assert charts.png_size(path) == (1200, 800)
    [(drawn_title, x_label, y_label, texts)] = figures
    assert drawn_title == title and x_label and y_label
    assert message in texts


def test_png_size_rejects_other_files(tmp_path: Path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"GIF89a" + b"\0" * 30)
    with pytest.raises(ValueError, match="fake.png is not a PNG"):
        charts.png_size(fake)


@pytest.mark.parametrize(("value", "text"), [(2.5e9, "$2.5B"), (1e6, "$1M"), (150_000, "$150K"), (999, "$999"), (0, "$0")])
def test_usd_label(value: float, text: str):
    assert charts.usd_label(value) == text


def test_franchise_chart_reads_the_gold_pivot(tmp_path: Path):
    """The asset draws one bar per row of gold.rpt_franchise_vs_standalone (no other schema exists)."""
    database = tmp_path / "gold_only.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE SCHEMA gold")
        conn.execute(
            "CREATE TABLE gold.rpt_franchise_vs_standalone AS SELECT * FROM (VALUES "
            "('standalone', 'Standalone', 2, 120, 2.5e8, 1.4, 6.8), "
            "('franchise', 'Franchise', 1, 40, 8e8, 3.2, 7.1), "
            "('unknown', 'Unknown', 3, 140, NULL, NULL, NULL)) AS t(segment, segment_label, segment_rank, "
            "film_count, mean_revenue_usd, mean_roi, mean_vote_average)"
        )
    resources = {
        "duckdb": DuckDBResource(database=str(database)),
        "paths": PipelinePaths(input_dir=str(tmp_path), reports_dir=str(tmp_path / "reports")),
    }
    result = materialize(
        [charts.franchise_vs_standalone_png, *report_checks.chart_png_checks], resources=resources, selection=[charts.franchise_vs_standalone_png.key]
    )
    assert result.success
    metadata = result.asset_materializations_for_node("reports__charts__franchise_vs_standalone_png")[0].metadata
    assert metadata["plotted_points"].value == 3
    assert charts.png_size(tmp_path / "reports" / "charts" / "franchise_vs_standalone.png") == (1200, 800)
    assert [evaluation.passed for evaluation in result.get_asset_check_evaluations()] == [True]


def _directors_warehouse(path: Path, rows: list[tuple]) -> None:
    """A warehouse holding only gold.rpt_top_directors_by_revenue with ``rows``."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA gold")
        conn.execute(
            "CREATE TABLE gold.rpt_top_directors_by_revenue (rank INTEGER, person_id BIGINT, director_name VARCHAR, "
            "total_revenue_usd DOUBLE, films_with_revenue BIGINT, movies_with_credits BIGINT, movies_total BIGINT)"
        )
        if rows:
            conn.executemany("INSERT INTO gold.rpt_top_directors_by_revenue VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _materialize_directors_chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, list[tuple]]:
    """Runs the top-directors asset and its PNG check on ``tmp_path/gold_only.duckdb``; returns
    the result and what the plot function was called with (names, revenue, films, coverage)."""
    calls: list[tuple] = []
    plot = charts.plot_top_directors_by_revenue

    def recording_plot(names, revenue, films, movies_with_credits, movies_total, path):
        calls.append((list(names), list(revenue), list(films), movies_with_credits, movies_total))
        return plot(names, revenue, films, movies_with_credits, movies_total, path)

    monkeypatch.setattr(charts, "plot_top_directors_by_revenue", recording_plot)
    resources = {
        "duckdb": DuckDBResource(database=str(tmp_path / "gold_only.duckdb")),
        "paths": PipelinePaths(input_dir=str(tmp_path), reports_dir=str(tmp_path / "reports")),
    }
    result = materialize(
        [charts.top_directors_by_revenue_png, *report_checks.chart_png_checks],
        resources=resources,
        selection=[charts.top_directors_by_revenue_png.key],
    )
    return result, calls


def test_top_directors_chart_reads_the_gold_ranking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """One bar per row of gold.rpt_top_directors_by_revenue, best rank first whatever the
    table's order, with the coverage of its rows (no other schema exists)."""
    _directors_warehouse(
        tmp_path / "gold_only.duckdb",
        [
            (2, 12891, "Joss Whedon", 2.92e9, 2, 101, 300),
            (1, 2710, "James Cameron", 4.63e9, 2, 101, 300),
            (3, 525, "Christopher Nolan", 2.36e9, 3, 101, 300),
        ],
    )
    result, calls = _materialize_directors_chart(tmp_path, monkeypatch)
    assert result.success
    assert calls == [(["James Cameron", "Joss Whedon", "Christopher Nolan"], [4.63e9, 2.92e9, 2.36e9], [2, 2, 3], 101, 300)]
    metadata = result.asset_materializations_for_node("reports__charts__top_directors_by_revenue_png")[0].metadata
    assert metadata["plotted_points"].value == 3
    path = tmp_path / "reports" / "charts" / "top_directors_by_revenue.png"
    assert charts.png_size(path) == (1200, 800) and path.stat().st_size > 20_000
    assert [evaluation.passed for evaluation in result.get_asset_check_evaluations()] == [True]


def test_top_directors_chart_of_an_empty_ranking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _directors_warehouse(tmp_path / "gold_only.duckdb", [])
    result, calls = _materialize_directors_chart(tmp_path, monkeypatch)
    assert result.success
    assert calls == [([], [], [], None, None)]
    metadata = result.asset_materializations_for_node("reports__charts__top_directors_by_revenue_png")[0].metadata
    assert metadata["plotted_points"].value == 0
    assert [evaluation.passed for evaluation in result.get_asset_check_evaluations()] == [True]


def test_top_directors_chart_says_what_it_covers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Bars best first from the top, labelled with name, film count and revenue in USD; the
    subtitle gives the movies with known credits out of all movies."""
    drawn: list[dict] = []
    save = charts._save

    def recording_save(figure: Figure, path: Path) -> Path:
        axes = figure.axes[0]
        drawn.append(
            {
                "title": figure.get_suptitle(),
                "subtitle": axes.get_title(),
                "names": [label.get_text() for label in axes.get_yticklabels()],
                "widths": [bar.get_width() for bar in axes.patches],
                "tops": [bar.get_y() for bar in axes.patches],
                "y_inverted": axes.yaxis_inverted(),
                "texts": [text.get_text() for text in figure.findobj(Text)],
                "x_ticks": [axes.xaxis.get_major_formatter()(tick, 0) for tick in (0, 2e9)],
            }
        )
        return save(figure, path)

    monkeypatch.setattr(charts, "_save", recording_save)
    charts.plot_top_directors_by_revenue(
        ["James Cameron", "Joss Whedon"], [4.63e9, 2.92e9], [2, 3], 1101, 3000, tmp_path / "top_directors_by_revenue.png"
    )
    [chart] = drawn
    assert chart["title"] == "Top directors by total worldwide revenue"
    assert chart["subtitle"] == "covers 1,101 of 3,000 movies with known credits"
    assert chart["names"] == ["James Cameron (2 films)", "Joss Whedon (3 films)"]
    assert chart["widths"] == [4.63e9, 2.92e9]
    # Bar 0 (the best) sits at the top: its position is lowest on an inverted y axis.
    assert chart["y_inverted"] and chart["tops"][0] < chart["tops"][1]
    assert {"$4.63B", "$2.92B"} <= set(chart["texts"])
    assert chart["x_ticks"] == ["$0", "$2B"]


def test_chart_metadata_embeds_the_image(drawn: dict[str, Path]):
    path = drawn["roi_by_genre"]
    result = charts._chart_result(path, "ROI by genre", 3)
    markdown = result.metadata["chart"].value
    prefix = "![ROI by genre](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix) : -1]) == path.read_bytes()
    assert result.metadata["plotted_points"] == 3
