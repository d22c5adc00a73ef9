"""Ingest benchmark: the TMDB client against the local server at 50 ms and 200 ms latency.

For each latency it starts the local TMDB server with the tests' fault injection and request
log (``python -m support.tmdb_faults``, ``tests/support/tmdb_faults.py``) in its own process
on 127.0.0.1, as TMDB is another machine, with that much delay before every answer, fetches
``--movies`` movie details (the most popular ids of ``$MOVIES_INPUT_DIR/tmdb/movies.jsonl.gz``) with :class:`TMDBClient`
(``--rate`` requests/second, ``--concurrency`` threads) and measures, from the server's own
request log (arrival times):

- the achieved rate: the mean number of arrivals in a 1-second window, over windows
  starting every 5 ms from the first arrival to one second before the last, and its share
  of the configured limit (target >= 95 %). (A plain count over span would flatter a
  limiter that lets a full second's worth through at once at the start.)
- the most requests that arrived in any 1-second window (must never exceed the limit).

At 200 ms it also runs the naive baseline: 10 threads, no limiter, a new connection per
request (``requests.get`` without a session), and reports the speed-up (baseline wall time /
client wall time).

Run: ``.venv/bin/python bench/ingest.py`` (about 2 minutes with the defaults). Prints a
Markdown table and writes ``bench/results/ingest.json``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO_ROOT))

from _common import RESULTS_DIR, machine_info, markdown_table, save_json  # noqa: E402
from movie_assets.settings import DEFAULT_SAMPLE_INPUT_DIR  # noqa: E402
from movie_assets.tmdb.client import TMDBClient  # noqa: E402
from movie_assets.tmdb.replay_server import Snapshot  # noqa: E402

KEY = "bench-local-key"


def max_in_any_second(arrivals: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s) that starts at an arrival."""
    arrivals = sorted(arrivals)
    return max(bisect.bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals))


def server_side(log: list[dict]) -> dict:
    """Rate figures from the server's request log (``at`` = arrival, seconds)."""
    arrivals = sorted(entry["at"] for entry in log)
    starts = [arrivals[0] + 0.005 * step for step in range(int((arrivals[-1] - 1.0 - arrivals[0]) / 0.005) + 1)]
    counts = [bisect.bisect_left(arrivals, start + 1.0) - bisect.bisect_left(arrivals, start) for start in starts]
    return {
        "requests": len(arrivals),
        "span_seconds": round(arrivals[-1] - arrivals[0], 3),
        "requests_per_second": round(sum(counts) / len(counts), 2) if counts else None,
        "max_in_any_1s": max_in_any_second(arrivals),
        "non_200": sum(1 for entry in log if entry["status"] != 200),
    }


@contextmanager
def replay_server(snapshot_dir: Path, latency: float):
    """Run the replay server in a child process; yields ``(base_url, log)`` where ``log``
    (a list) is filled with the server's request log once the server has stopped."""
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "requests.jsonl"
        command = [
            sys.executable,
            "-m",
            "support.tmdb_faults",
            "--snapshot",
            str(snapshot_dir),
            "--port",
            "0",
            "--api-key",
            KEY,
            "--latency",
            str(latency),
            "--request-log",
            str(log_path),
        ]
        # Run from tests/ so that `-m support.tmdb_faults` finds the test-side package.
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT / "tests")
        log: list[dict] = []
        try:
            base_url = server.stdout.readline().rsplit(" ", 1)[-1].strip()
            yield base_url, log
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.extend(json.loads(line) for line in log_path.read_text().splitlines())


def run_client(snapshot_dir: Path, ids: list[int], latency: float, rate: float, concurrency: int) -> dict:
    with replay_server(snapshot_dir, latency) as (base_url, log):
        client = TMDBClient(base_url, api_key=KEY, rate_limit=rate, max_concurrency=concurrency, timeout=10, max_retries=5)
        started = time.monotonic()
        results = list(client.fetch_movies(ids, "credits"))
        wall = time.monotonic() - started
        client.close()
    figures = server_side(log)
    return {
        "run": f"client, {latency * 1000:.0f} ms",
        "latency_ms": latency * 1000,
        "fetched": sum(1 for r in results if r.ok),
        "wall_seconds": round(wall, 2),
        **figures,
        "share_of_limit": round(figures["requests_per_second"] / rate, 4),
        "limit": rate,
    }


def run_naive(snapshot_dir: Path, ids: list[int], latency: float, threads: int = 10) -> dict:
    with replay_server(snapshot_dir, latency) as (base_url, log):

        def fetch(movie_id: int) -> int:
            response = requests.get(f"{base_url}/movie/{movie_id}", params={"append_to_response": "credits", "api_key": KEY}, timeout=10)
            return response.status_code

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            statuses = list(pool.map(fetch, ids))
        wall = time.monotonic() - started
    return {
        "run": f"naive baseline, {latency * 1000:.0f} ms",
        "latency_ms": latency * 1000,
        "fetched": statuses.count(200),
        "wall_seconds": round(wall, 2),
        **server_side(log),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=2000, help="movie details to fetch per run (>= 2000 for the target)")
    parser.add_argument("--rate", type=float, default=100.0, help="configured limit, requests/second")
    parser.add_argument("--concurrency", type=int, default=32, help="client threads")
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SAMPLE_INPUT_DIR / "tmdb")
    args = parser.parse_args(argv)

    ids = Snapshot.load(args.snapshot).discover_order[: args.movies]
    rows = [run_client(args.snapshot, ids, latency, args.rate, args.concurrency) for latency in (0.05, 0.2)]
    naive = run_naive(args.snapshot, ids, 0.2)
    rows.append(naive)
    speed_up = round(naive["wall_seconds"] / rows[1]["wall_seconds"], 2)
    payload = {
        "machine": machine_info(),
        "settings": {"movies": len(ids), "rate_limit": args.rate, "concurrency": args.concurrency},
        "runs": rows,
        "speed_up_at_200ms": speed_up,
    }
    save_json(RESULTS_DIR / "ingest.json", payload)
    columns = ["run", "fetched", "wall_seconds", "requests", "requests_per_second", "share_of_limit", "max_in_any_1s", "non_200"]
    print(markdown_table(rows, columns))
    print(f"\nspeed-up over the naive baseline at 200 ms: {speed_up}x")
    print(f"machine: {payload['machine']}")


if __name__ == "__main__":
    main()
