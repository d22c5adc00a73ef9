"""Benchmark the stakeholder workbook writer: rows/second and peak memory at 50k and 500k movies.

Each size runs in a fresh child process that streams synthetic rows (shaped like
``gold.dim_movie``, one in four an Action film, about one in fifty with formula-like text)
into :func:`movie_assets.reports.workbook.write_report_workbook` and reports its wall time and
CPU time (a fairer speed figure on a shared machine) and peak RSS (sampled every 0.1 s)
above the RSS it had before writing. Both sizes run in one
invocation so the ratios compare like with like on a shared machine.

    .venv/bin/python bench/excel.py            # 50k and 500k rows
    .venv/bin/python bench/excel.py 20000 200000

Writes ``bench/results/excel.json`` and prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS_DIR, PeakRSS, machine_info, markdown_table, save_json  # noqa: E402

GENRES = ["Action", "Adventure", "Animation", "Comedy", "Crime", "Drama", "Family", "Fantasy", "Horror", "Romance", "Science Fiction", "Thriller"]


def synthetic_movies(count: int, seed: int = 7):
    """``count`` rows (movie_id, title, vote_average, genres, release_date, budget_usd, revenue_usd, roi)."""
    rng = random.Random(seed)
    start = date(1950, 1, 1)
    for movie_id in range(1, count + 1):
        genres = sorted(rng.sample(GENRES, rng.randint(1, 3)))
        if movie_id % 4 == 0 and "Action" not in genres:
            genres = sorted(genres + ["Action"])
        title = f"Movie {movie_id} {rng.choice(['The', 'A', 'Return of', 'Night of'])} {rng.random():.6f}"
        if movie_id % 50 == 0:
            title = "=" + title
        budget = rng.choice([None, rng.randint(100_000, 300_000_000)])
        revenue = rng.choice([None, rng.randint(10_000, 2_000_000_000)])
        roi = (revenue - budget) / budget if budget and revenue else None
        yield (movie_id, title, round(rng.uniform(0, 10), 1), ", ".join(genres), start + timedelta(days=rng.randint(0, 27_000)), budget, revenue, roi)


def measure(rows: int) -> dict:
    """Write a workbook of ``rows`` movies in this process; returns seconds, rows/s, memory, size."""
    from movie_assets.reports.workbook import write_report_workbook

    # RSS is sampled while writing (the getrusage high-water mark is set by the imports, above
    # anything the writer needs), and growth is taken from the RSS just before writing.
    baseline = psutil.Process().memory_info().rss
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "movie_data.xlsx"
        started, cpu_started = time.perf_counter(), time.process_time()
        with PeakRSS(interval=0.1) as peak:
            counts = write_report_workbook(path, synthetic_movies(rows), movie_count=rows)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        size = path.stat().st_size
    assert counts["Movies"] == rows
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "rows_per_second": round(rows / seconds),
        "rows_per_cpu_second": round(rows / cpu_seconds),
        "baseline_rss_mib": round(baseline / 2**20, 1),
        "peak_rss_mib": round(peak.peak_bytes / 2**20, 1),
        "peak_growth_mib": round((peak.peak_bytes - baseline) / 2**20, 1),
        "rss_samples": peak.samples,
        "file_mib": round(size / 2**20, 1),
    }


def main(sizes: list[int]) -> None:
    results = []
    for rows in sizes:
        child = subprocess.run([sys.executable, __file__, "--child", str(rows)], check=True, capture_output=True, text=True)
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    small, large = results[0], results[-1]
    ratios = {
        "rows_ratio": large["rows"] / small["rows"],
        "rows_per_second_ratio": round(large["rows_per_second"] / small["rows_per_second"], 2),
        "rows_per_cpu_second_ratio": round(large["rows_per_cpu_second"] / small["rows_per_cpu_second"], 2),
        "peak_growth_ratio": round(large["peak_growth_mib"] / max(small["peak_growth_mib"], 0.1), 2),
    }
    save_json(RESULTS_DIR / "excel.json", {"machine": machine_info(), "results": results, "ratios": ratios})
    print(markdown_table(results, ["rows", "seconds", "rows_per_second", "rows_per_cpu_second", "peak_rss_mib", "peak_growth_mib", "file_mib"]))
    print(ratios)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        main([int(arg) for arg in sys.argv[1:]] or [50_000, 500_000])
