"""Publish cost of the snapshot's storage version: one build published in each version, alternating.

Publishes an existing build file (one that ``transform.py --keep`` left, with its lake) with
:func:`publish_snapshot` in each ``--versions`` value (``MOVIES_SERVING_STORAGE_VERSION``;
default the product's default, then ``latest``: a rewrite in the compatible format against
the byte copy of the build file), ``--rounds`` times in alternation (A, B, A, B, ...), each
version into its own serving folder (``keep`` 1). Per publication: wall and CPU seconds of
this process, the 1-minute load average after it, and the snapshot's size; then the median
per version and each version's ratio to the last one.

Run::

    cd bench
    ../.venv/bin/python transform.py --sizes 100k --days 30 --keep --out results/transform-storage
    ../.venv/bin/python publish_storage.py --build results/transform-storage/100kx30-slim/build/warehouse.duckdb \\
        --lake results/data/100kx30-seed42/lake-slim
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import REPO_ROOT, RESULTS_DIR, Stopwatch, file_bytes, machine_info, markdown_table, save_json

sys.path.insert(0, str(REPO_ROOT))
from movie_assets.serving.publish import publish_snapshot  # noqa: E402
from movie_assets.settings import DEFAULT_SERVING_STORAGE_VERSION  # noqa: E402
from movie_assets.warehouse.lake import Lake  # noqa: E402

RUN_ID = "bench-publish-storage"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="the build file to publish (read, never written)")
    parser.add_argument("--lake", type=Path, required=True, help="the lake the build was made from (its dead letters)")
    parser.add_argument("--versions", default=f"{DEFAULT_SERVING_STORAGE_VERSION},latest", help="comma-separated storage versions")
    parser.add_argument("--rounds", type=int, default=1, help="publications per version, alternating")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "publish_storage")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not args.build.is_file():
        parser.error(f"--build {args.build} is not a file: run transform.py with --keep first")
    versions = [version.strip() for version in args.versions.split(",") if version.strip()]
    out = args.out.resolve()
    shutil.rmtree(out / "serving", ignore_errors=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    publications = []
    for attempt in range(args.rounds):
        for version in versions:
            folder = out / "serving" / version
            cpu_before = time.process_time()
            with Stopwatch() as watch:
                publication = publish_snapshot(
                    args.build.resolve(),
                    Lake(args.lake.resolve()),
                    folder,
                    folder / "warehouse.duckdb",
                    keep=1,
                    run_id=f"{RUN_ID}-{attempt}",
                    partition_date=None,
                    tmdb_source="snapshot",
                    storage_version=version,
                )
            publications.append(
                {
                    "storage_version": version,
                    "storage_tag": publication.storage_version,
                    "round": attempt + 1,
                    "seconds": watch.seconds,
                    "cpu_seconds": round(time.process_time() - cpu_before, 3),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "snapshot_mib": round(file_bytes(publication.snapshot) / 1024**2, 1),
                }
            )
            print(publications[-1], flush=True)
    summary = []
    for version in versions:
        runs = [p for p in publications if p["storage_version"] == version]
        summary.append(
            {
                "storage_version": version,
                "storage_tag": runs[-1]["storage_tag"],
                "publish_seconds": statistics.median(p["seconds"] for p in runs),
                "publish_cpu_seconds": statistics.median(p["cpu_seconds"] for p in runs),
                "snapshot_mib": runs[-1]["snapshot_mib"],
            }
        )
    base = summary[-1]
    for row in summary:
        row["time_ratio"] = round(row["publish_seconds"] / base["publish_seconds"], 2)
        row["cpu_ratio"] = round(row["publish_cpu_seconds"] / base["publish_cpu_seconds"], 2)
        row["size_ratio"] = round(row["snapshot_mib"] / base["snapshot_mib"], 2)
    result = {
        "machine": machine_info(),
        "started": started,
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "build": str(args.build),
        "build_file_mib": round(file_bytes(args.build) / 1024**2, 1),
        "summary": summary,
        "publications": publications,
    }
    save_json(out / "publish_storage.json", result)
    table = markdown_table(summary, list(summary[0]))
    (out / "publish_storage.md").write_text(table + "\n")
    print(table)
    shutil.rmtree(out / "serving", ignore_errors=True)


if __name__ == "__main__":
    main()
