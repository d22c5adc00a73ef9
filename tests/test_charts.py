"""Chart functions: 1200x800 PNGs from hand-made arrays, empty inputs, the UI metadata."""

import base64
from pathlib import Path

import pytest

from movie_assets.reports import charts


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("charts")
    return {
        "revenue_vs_budget": charts.plot_revenue_vs_budget(
            [237e6, 30e6, 5e6, None, 0], [2.78e9, 10e6, 60e6, 1e6, 5e6], folder / "revenue_vs_budget.png"),
        "roi_by_genre": charts.plot_roi_by_genre(
            ["Action", "Drama", "Horror"], [1.5, 0.8, 3.0], [1.7, 0.5, 2.2], [140, 88, 15],
            folder / "roi_by_genre.png"),
        "popularity_vs_rating": charts.plot_popularity_vs_rating(
            [7.2, 6.1, 8.3, 5.0], [150.4, 60.2, 875.6, 1.0], [11800, 2000, 9000, 0],
            folder / "popularity_vs_rating.png"),
        "yearly_revenue": charts.plot_yearly_revenue(
            [1997, 2009, 2015], [1.8e9, 9.0e9, 1.6e10], [3, 14, 36], folder / "yearly_revenue.png"),
        "franchise_vs_standalone": charts.plot_franchise_vs_standalone(
            ["Franchise", "Standalone", "Unknown"], [40, 120, 140], [8e8, 2.5e8, None], [3.2, 1.4, 2.0],
            [7.1, 6.8, 6.5], folder / "franchise_vs_standalone.png"),
    }


def test_every_chart_is_a_1200_by_800_png(drawn: dict[str, Path]):
    for name, path in drawn.items():
        assert path.name == f"{name}.png"
        assert path.read_bytes().startswith(charts.PNG_SIGNATURE)
        assert charts.png_size(path) == (1200, 800), name
        assert path.stat().st_size > 20_000, name  # a blank 1200x800 PNG is ~5 KB
        assert not list(path.parent.glob(".*.tmp"))


def test_empty_inputs_still_draw_a_labelled_chart(tmp_path: Path):
    path = charts.plot_revenue_vs_budget([], [], tmp_path / "empty.png")
    assert charts.png_size(path) == (1200, 800)
    path = charts.plot_yearly_revenue([], [], [], tmp_path / "empty_years.png")
    assert charts.png_size(path) == (1200, 800)


def test_png_size_rejects_other_files(tmp_path: Path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"GIF89a" + b"\0" * 30)
    with pytest.raises(ValueError, match="fake.png is not a PNG"):
        charts.png_size(fake)


@pytest.mark.parametrize(
    ("value", "text"), [(2.5e9, "$2.5B"), (1e6, "$1M"), (150_000, "$150K"), (999, "$999"), (0, "$0")]
)
def test_usd_label(value: float, text: str):
    assert charts.usd_label(value) == text


def test_franchise_segments_pivot_kpi_rows():
    rows = [("franchise", "movie_count", 40.0), ("franchise", "mean_roi", 3.2), ("standalone", "movie_count", 120.0)]
    assert charts.franchise_segments(rows) == {
        "Franchise": {"movie_count": 40.0, "mean_roi": 3.2},
        "Standalone": {"movie_count": 120.0},
    }


def test_chart_metadata_embeds_the_image(drawn: dict[str, Path]):
    path = drawn["roi_by_genre"]
    result = charts._chart_result(path, "ROI by genre", 3)
    markdown = result.metadata["chart"].value
    prefix = "![ROI by genre](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix):-1]) == path.read_bytes()
    assert result.metadata["plotted_points"] == 3
