"""Helpers shared by the benchmarks: the machine's description, peak RSS of a process tree,
result files and Markdown tables."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
GIB = 1024**3


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU model, OS and the versions of the tools the figures depend on."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "pyarrow", "openpyxl"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        **versions,
    }


class PeakRSS:
    """Samples the resident set size of a process and all its descendants in a thread.

    ``peak_bytes`` is the largest sum over the tree seen at any sample (shared pages are
    counted once per process, so this errs high). Use as a context manager around the
    work; ``pid`` defaults to this process (for in-process runs whose children, like dbt,
    are included automatically).

    Args:
        pid: the root process to watch.
        interval: seconds between samples.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.05) -> None:
        self.pid = pid or os.getpid()
        self.interval = interval
        self.peak_bytes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _tree_rss(self) -> int:
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._tree_rss())
            self.samples += 1
            self._stop.wait(self.interval)

    def start(self) -> PeakRSS:
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> PeakRSS:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def peak_gib(self) -> float:
        return round(self.peak_bytes / GIB, 2)


def file_bytes(path: Path) -> int:
    """Size of a DuckDB file plus its WAL, 0 when missing."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + ".wal")) if p.exists())


def save_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A GitHub Markdown table of ``rows`` (dicts) with the given column keys as headers."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column)) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds`` (monotonic wall time)."""

    def __enter__(self) -> Stopwatch:
        self._started = time.monotonic()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc_info) -> None:
        self.seconds = round(time.monotonic() - self._started, 3)
