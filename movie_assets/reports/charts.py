"""PNG charts of the gold layer (matplotlib, Agg backend), 1200x800 px in ``$MOVIES_REPORTS_DIR/charts/``.

Each chart is a plain function (arrays in, PNG file out) wrapped by a small asset that
selects its data from a finished gold table (no ``bronze``/``silver``, no re-derived
business rule: report shapes are dbt ``gold.rpt_*`` models) and attaches the image to its
materialization as Markdown, so it shows in the Dagster UI. Money is USD (nominal).

- ``revenue_vs_budget.png``: ``gold.dim_movie`` budget_usd, revenue_usd (both known).
- ``roi_by_genre.png``: ``gold.mart_genre_roi`` genre_name, median_roi, portfolio_roi
  (ratios), total_movies.
- ``popularity_vs_rating.png``: ``gold.dim_movie`` vote_average (0-10), popularity,
  vote_count (> 0).
- ``yearly_revenue.png``: ``gold.rpt_yearly_revenue`` release_year, total_revenue_usd,
  film_count.
- ``franchise_vs_standalone.png``: ``gold.rpt_franchise_vs_standalone`` segment_label,
  film_count, mean_revenue_usd, mean_roi (ratio), mean_vote_average (0-10), by segment_rank.
- ``top_directors_by_revenue.png``: ``gold.rpt_top_directors_by_revenue`` director_name,
  total_revenue_usd, films_with_revenue, movies_with_credits of movies_total, by rank.

Their PNG checks are in :mod:`movie_assets.reports.checks`.
"""

import base64
import struct
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from dagster import AssetKey, MaterializeResult, MetadataValue, asset  # noqa: E402
from dagster_duckdb import DuckDBResource  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from movie_assets.atomic_write import atomic_output  # noqa: E402
from movie_assets.paths import PipelinePaths  # noqa: E402

CHARTS_DIR = "charts"
WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PROFIT, _LOSS, _NEUTRAL, _ACCENT = "#2a9d8f", "#e76f51", "#264653", "#e9c46a"


def usd_label(value: float, _position: int | None = None) -> str:
    """``value`` USD as short text: 1.5e9 -> "$1.5B", 2e6 -> "$2M", 500 -> "$500"."""
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= threshold:
            return f"${value / threshold:.3g}{suffix}"
    return f"${value:.3g}"


_USD = FuncFormatter(usd_label)


def _figure() -> Figure:
    plt.rcParams.update({"font.size": 13, "axes.titlesize": 18, "axes.labelsize": 14})
    return plt.figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)


def _save(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a 1200x800 PNG to ``path`` atomically (temp file + ``os.replace``)."""
    try:
        with atomic_output(path) as temp_name:
            figure.savefig(temp_name, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return path


def _no_data(axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, fontsize=16, color="gray")


def plot_revenue_vs_budget(budget_usd: Sequence[float], revenue_usd: Sequence[float], path: Path) -> Path:
    """Log-log scatter of worldwide revenue against budget (both USD, > 0), with the
    break-even line revenue = budget; points above it are profitable. Writes ``path``."""
    budget = np.asarray(budget_usd, dtype=float)
    revenue = np.asarray(revenue_usd, dtype=float)
    known = (budget > 0) & (revenue > 0)
    budget, revenue = budget[known], revenue[known]
    figure = _figure()
    axes = figure.add_subplot()
    if budget.size:
        profitable = revenue >= budget
        axes.scatter(budget[profitable], revenue[profitable], s=28, alpha=0.7, color=_PROFIT, label=f"Profitable ({profitable.sum()})")
        axes.scatter(budget[~profitable], revenue[~profitable], s=28, alpha=0.7, color=_LOSS, label=f"Loss-making ({(~profitable).sum()})")
        low = min(budget.min(), revenue.min()) / 2
        high = max(budget.max(), revenue.max()) * 2
        axes.plot([low, high], [low, high], color=_NEUTRAL, linestyle="--", linewidth=1.5, label="Break-even (revenue = budget)")
        axes.set_xlim(low, high)
        axes.set_ylim(low, high)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.legend(loc="upper left")
    else:
        _no_data(axes, "No movies with both budget and revenue")
    axes.xaxis.set_major_formatter(_USD)
    axes.yaxis.set_major_formatter(_USD)
    axes.grid(True, which="major", alpha=0.3)
    axes.set_title(f"Revenue vs budget ({budget.size} movies with both known)")
    axes.set_xlabel("Budget (USD, log scale)")
    axes.set_ylabel("Worldwide revenue (USD, log scale)")
    figure.tight_layout()
    return _save(figure, path)


def plot_roi_by_genre(
    genres: Sequence[str], median_roi: Sequence[float], portfolio_roi: Sequence[float], total_movies: Sequence[int], path: Path
) -> Path:
    """Horizontal bars of median and portfolio ROI per genre (ratios: 1.0 = +100 %),
    sorted by median ROI; labels carry each genre's film count. Writes ``path``."""
    order = np.argsort(np.asarray(median_roi, dtype=float))
    names = [f"{genres[i]} ({total_movies[i]})" for i in order]
    median = np.asarray(median_roi, dtype=float)[order]
    portfolio = np.asarray(portfolio_roi, dtype=float)[order]
    figure = _figure()
    axes = figure.add_subplot()
    if len(names):
        positions = np.arange(len(names))
        height = 0.4
        axes.barh(positions + height / 2, median, height, color=_NEUTRAL, label="Median ROI per film")
        axes.barh(positions - height / 2, portfolio, height, color=_ACCENT, label="Portfolio ROI (total revenue / total budget - 1)")
        axes.set_yticks(positions, names)
        axes.axvline(0, color="black", linewidth=1)
        axes.legend(loc="lower right")
    else:
        _no_data(axes, "No genre has enough films with budget and revenue")
    axes.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes.grid(True, axis="x", alpha=0.3)
    axes.set_title("Return on investment by genre")
    axes.set_xlabel("ROI (profit / budget, %)")
    axes.set_ylabel("Genre (films with budget and revenue)")
    figure.tight_layout()
    return _save(figure, path)


def plot_popularity_vs_rating(vote_average: Sequence[float], popularity: Sequence[float], vote_count: Sequence[int], path: Path) -> Path:
    """Scatter of TMDB popularity (log scale, unitless TMDB score) against mean vote (0-10);
    marker area grows with the number of votes. Movies without votes are left out. Writes ``path``."""
    rating = np.asarray(vote_average, dtype=float)
    popular = np.asarray(popularity, dtype=float)
    votes = np.asarray(vote_count, dtype=float)
    shown = (votes > 0) & (popular > 0) & np.isfinite(rating)
    rating, popular, votes = rating[shown], popular[shown], votes[shown]
    figure = _figure()
    axes = figure.add_subplot()
    if rating.size:
        sizes = 10 + 190 * np.sqrt(votes / votes.max())
        points = axes.scatter(rating, popular, s=sizes, c=np.log10(votes), cmap="viridis", alpha=0.7, edgecolors="white", linewidths=0.5)
        colorbar = figure.colorbar(points, ax=axes)
        colorbar.formatter = FuncFormatter(lambda value, _: f"{10**value:,.0f}")
        colorbar.update_ticks()
        colorbar.set_label("Votes (count, log scale)")
        axes.set_yscale("log")
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if str(value)[0] in "25" else ""))
        axes.set_xlim(max(0.0, rating.min() - 0.5), min(10.0, rating.max() + 0.5))
    else:
        _no_data(axes, "No movies with votes")
        axes.set_xlim(0, 10)
    axes.grid(True, alpha=0.3)
    axes.set_title(f"Popularity vs rating ({rating.size} movies with votes)")
    axes.set_xlabel("Mean vote (0-10)")
    axes.set_ylabel("TMDB popularity score (log scale)")
    figure.tight_layout()
    return _save(figure, path)


def plot_yearly_revenue(years: Sequence[int], total_revenue_usd: Sequence[float], film_count: Sequence[int], path: Path) -> Path:
    """Bars of total worldwide revenue (USD) per release year with the number of films
    released that year as a line on a second axis. Writes ``path``."""
    given = np.asarray(years, dtype=int)
    year = np.arange(given.min(), given.max() + 1) if given.size else given
    # Years without releases are drawn as zero, so the count line does not bridge the gaps.
    revenue = np.zeros(year.size)
    films = np.zeros(year.size, dtype=int)
    revenue[given - year[0] if year.size else given] = np.nan_to_num(np.asarray(total_revenue_usd, dtype=float))
    films[given - year[0] if year.size else given] = np.asarray(film_count, dtype=int)
    figure = _figure()
    axes = figure.add_subplot()
    if year.size:
        axes.bar(year, revenue, color=_NEUTRAL, width=0.8, label="Total revenue (USD)")
        films_axes = axes.twinx()
        films_axes.plot(year, films, color=_LOSS, marker="o", markersize=4, linewidth=2, label="Films released")
        films_axes.set_ylabel("Films released (count)", color=_LOSS)
        films_axes.tick_params(axis="y", colors=_LOSS)
        films_axes.set_ylim(0, max(films.max() * 1.15, 1))
        handles = axes.get_legend_handles_labels()[0] + films_axes.get_legend_handles_labels()[0]
        axes.legend(handles, [h.get_label() for h in handles], loc="upper left")
    else:
        _no_data(axes, "No release years")
    axes.yaxis.set_major_formatter(_USD)
    axes.grid(True, axis="y", alpha=0.3)
    axes.set_title("Worldwide revenue and films released per year")
    axes.set_xlabel("Release year")
    axes.set_ylabel("Total worldwide revenue (USD, nominal)")
    figure.tight_layout()
    return _save(figure, path)


def plot_franchise_vs_standalone(
    segments: Sequence[str],
    film_count: Sequence[int],
    mean_revenue_usd: Sequence[float],
    mean_roi: Sequence[float],
    mean_vote_average: Sequence[float],
    path: Path,
) -> Path:
    """Four panels comparing segments (e.g. Franchise, Standalone): film count, mean
    revenue (USD), mean ROI (ratio, shown in %) and mean vote (0-10). Writes ``path``."""
    figure = _figure()
    panels = figure.subplots(2, 2)
    colors = [_ACCENT, _NEUTRAL, _PROFIT, _LOSS][: len(segments)]
    metrics = [
        (panels[0][0], film_count, "Films (count)", lambda v: f"{v:,.0f}", None),
        (panels[0][1], mean_revenue_usd, "Mean worldwide revenue (USD)", usd_label, _USD),
        (panels[1][0], mean_roi, "Mean ROI (%)", lambda v: f"{v:.0%}", PercentFormatter(xmax=1.0, decimals=0)),
        (panels[1][1], mean_vote_average, "Mean vote (0-10)", lambda v: f"{v:.2f}", None),
    ]
    for axes, values, label, value_text, formatter in metrics:
        numbers = np.nan_to_num(np.asarray([np.nan if v is None else v for v in values], dtype=float))
        bars = axes.bar(list(segments), numbers, color=colors)
        axes.bar_label(bars, [value_text(v) for v in numbers], padding=3)
        axes.set_ylabel(label)
        axes.set_title(label.split(" (")[0])
        axes.margins(y=0.15)
        axes.grid(True, axis="y", alpha=0.3)
        if formatter:
            axes.yaxis.set_major_formatter(formatter)
    panels[1][1].set_ylim(0, 10)
    figure.suptitle("Franchise (collection) vs standalone films", fontsize=18)
    if "Unknown" in segments:
        figure.text(
            0.5, 0.01, "Unknown: the TMDB record does not say whether the film belongs to a collection.", ha="center", fontsize=11, color="dimgray"
        )
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return _save(figure, path)


def plot_top_directors_by_revenue(
    director_names: Sequence[str],
    total_revenue_usd: Sequence[float],
    films_with_revenue: Sequence[int],
    movies_with_credits: int | None,
    movies_total: int | None,
    path: Path,
) -> Path:
    """Horizontal bars of each director's total worldwide revenue (USD, nominal), in the order
    given (best first, drawn at the top); labels carry the films adding up the total. The
    subtitle says the ranking covers ``movies_with_credits`` of ``movies_total`` movies (those
    with known credits); both are None when there is no row to read them from. Writes ``path``."""
    revenue = np.nan_to_num(np.asarray(total_revenue_usd, dtype=float))
    names = [f"{name} ({films} films)" for name, films in zip(director_names, films_with_revenue, strict=True)]
    figure = _figure()
    axes = figure.add_subplot()
    if names:
        positions = np.arange(len(names))
        bars = axes.barh(positions, revenue, color=_NEUTRAL)
        axes.bar_label(bars, [usd_label(value) for value in revenue], padding=4)
        axes.set_yticks(positions, names)
        axes.invert_yaxis()
        axes.margins(x=0.12)
    else:
        _no_data(axes, "No director has enough films with known revenue and credits")
        axes.set_yticks([])
    axes.xaxis.set_major_formatter(_USD)
    axes.grid(True, axis="x", alpha=0.3)
    figure.suptitle("Top directors by total worldwide revenue", fontsize=18)
    if movies_with_credits is not None and movies_total is not None:
        axes.set_title(f"covers {movies_with_credits:,} of {movies_total:,} movies with known credits", fontsize=13, color="dimgray")
    axes.set_xlabel("Total worldwide revenue of their films (USD, nominal)")
    axes.set_ylabel("Director (films with known revenue)")
    figure.tight_layout()
    return _save(figure, path)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from the PNG header of ``path``.

    Raises:
        ValueError: ``path`` is not a PNG file (naming the file).
    """
    with open(path, "rb") as handle:
        header = handle.read(24)
    if len(header) < 24 or not header.startswith(PNG_SIGNATURE) or header[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", header[16:24])


def _chart_result(path: Path, title: str, plotted: int) -> MaterializeResult:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "plotted_points": plotted,
            "bytes": path.stat().st_size,
            "chart": MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})"),
        }
    )


_CHART_ASSET = dict(key_prefix=["reports", "charts"], group_name="reports", kinds={"matplotlib", "python"}, owners=["team:analytics"])


@asset(deps=[AssetKey(["gold", "dim_movie"])], **_CHART_ASSET)
def revenue_vs_budget_png(duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``charts/revenue_vs_budget.png``: log-log revenue vs budget of ``gold.dim_movie`` with break-even line."""
    with duckdb.get_connection() as conn:
        data = conn.execute(
            "SELECT budget_usd, revenue_usd FROM gold.dim_movie WHERE budget_usd IS NOT NULL AND revenue_usd IS NOT NULL"
        ).fetchnumpy()
    path = plot_revenue_vs_budget(data["budget_usd"], data["revenue_usd"], paths.reports / CHARTS_DIR / "revenue_vs_budget.png")
    return _chart_result(path, "Revenue vs budget", len(data["budget_usd"]))


@asset(deps=[AssetKey(["gold", "mart_genre_roi"])], **_CHART_ASSET)
def roi_by_genre_png(duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``charts/roi_by_genre.png``: median and portfolio ROI per genre from ``gold.mart_genre_roi``."""
    with duckdb.get_connection() as conn:
        data = conn.execute("SELECT genre_name, median_roi, portfolio_roi, total_movies FROM gold.mart_genre_roi").fetchnumpy()
    path = plot_roi_by_genre(
        list(data["genre_name"]),
        data["median_roi"],
        data["portfolio_roi"],
        list(data["total_movies"]),
        paths.reports / CHARTS_DIR / "roi_by_genre.png",
    )
    return _chart_result(path, "ROI by genre", len(data["genre_name"]))


@asset(deps=[AssetKey(["gold", "dim_movie"])], **_CHART_ASSET)
def popularity_vs_rating_png(duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``charts/popularity_vs_rating.png``: TMDB popularity vs mean vote of ``gold.dim_movie``."""
    with duckdb.get_connection() as conn:
        data = conn.execute("SELECT vote_average, popularity, vote_count FROM gold.dim_movie WHERE vote_count > 0").fetchnumpy()
    path = plot_popularity_vs_rating(
        data["vote_average"], data["popularity"], data["vote_count"], paths.reports / CHARTS_DIR / "popularity_vs_rating.png"
    )
    return _chart_result(path, "Popularity vs rating", len(data["vote_average"]))


@asset(deps=[AssetKey(["gold", "rpt_yearly_revenue"])], **_CHART_ASSET)
def yearly_revenue_png(duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``charts/yearly_revenue.png``: revenue and film count per release year (``gold.rpt_yearly_revenue``)."""
    with duckdb.get_connection() as conn:
        data = conn.execute("SELECT release_year, total_revenue_usd, film_count FROM gold.rpt_yearly_revenue ORDER BY release_year").fetchnumpy()
    path = plot_yearly_revenue(data["release_year"], data["total_revenue_usd"], data["film_count"], paths.reports / CHARTS_DIR / "yearly_revenue.png")
    return _chart_result(path, "Yearly revenue and film count", len(data["release_year"]))


@asset(deps=[AssetKey(["gold", "rpt_franchise_vs_standalone"])], **_CHART_ASSET)
def franchise_vs_standalone_png(duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``charts/franchise_vs_standalone.png``: film count, mean revenue, ROI and rating of
    franchise, standalone and unknown-collection films, one bar per row of
    ``gold.rpt_franchise_vs_standalone`` in segment order."""
    with duckdb.get_connection() as conn:
        rows = conn.execute(
            "SELECT segment_label, film_count, mean_revenue_usd, mean_roi, mean_vote_average "
            "FROM gold.rpt_franchise_vs_standalone ORDER BY segment_rank"
        ).fetchall()
    labels, film_count, mean_revenue_usd, mean_roi, mean_vote_average = [[row[i] for row in rows] for i in range(5)]
    path = plot_franchise_vs_standalone(
        labels, film_count, mean_revenue_usd, mean_roi, mean_vote_average, paths.reports / CHARTS_DIR / "franchise_vs_standalone.png"
    )
    return _chart_result(path, "Franchise vs standalone", len(labels))


@asset(deps=[AssetKey(["gold", "rpt_top_directors_by_revenue"])], **_CHART_ASSET)
def top_directors_by_revenue_png(duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    """``charts/top_directors_by_revenue.png``: one bar per row of
    ``gold.rpt_top_directors_by_revenue`` (the KPI top_director_by_revenue), best first, with
    the share of movies with known credits it covers."""
    with duckdb.get_connection() as conn:
        rows = conn.execute(
            "SELECT rank, director_name, total_revenue_usd, films_with_revenue, movies_with_credits, movies_total "
            "FROM gold.rpt_top_directors_by_revenue ORDER BY rank"
        ).fetchall()
    # The coverage is the same on every row (one count per build); an empty table has none.
    movies_with_credits, movies_total = rows[0][4:6] if rows else (None, None)
    path = plot_top_directors_by_revenue(
        [row[1] for row in rows],
        [row[2] for row in rows],
        [row[3] for row in rows],
        movies_with_credits,
        movies_total,
        paths.reports / CHARTS_DIR / "top_directors_by_revenue.png",
    )
    return _chart_result(path, "Top directors by revenue", len(rows))


CHART_FILES = {
    revenue_vs_budget_png: "revenue_vs_budget.png",
    roi_by_genre_png: "roi_by_genre.png",
    popularity_vs_rating_png: "popularity_vs_rating.png",
    yearly_revenue_png: "yearly_revenue.png",
    franchise_vs_standalone_png: "franchise_vs_standalone.png",
    top_directors_by_revenue_png: "top_directors_by_revenue.png",
}
