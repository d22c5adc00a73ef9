"""A/B of the embedded ``make run``: this checkout against another one, alternating.

Each run is ``python -m movie_assets.cli --partition DAY`` (the command ``make run`` runs) in a
child process with fresh data paths and a fresh Dagster instance under ``--out``, configured by
the checkout's own ``scripts/dagster.yaml``, on the sample data through the bundled TMDB server
(``TMDB_SOURCE=snapshot``). The "before" checkout is imported through ``PYTHONPATH`` with this
checkout's virtualenv, so only the project's code and instance config differ. Pairs alternate
which side goes first (A B, B A, …), so a machine growing busier or quieter weighs on both.

Per run: the run's own wall time (start to end of the run record in its instance, i.e. without
the command's imports and manifest check) and the command's wall time. Reported: each run, the
medians per side and the ratio after / before of the medians.

Run::

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/embedded_run_ab.py --before /tmp/before --pairs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import REPO_ROOT, RESULTS_DIR, machine_info, markdown_table, save_json

# Today (UTC): a past day without an observation lands nothing and skips the models (the
# rule against passing today's values off as a past day), so only today is a whole run.
DAY = datetime.now(UTC).date().isoformat()
# Read in the run's own environment: the "before" instance config may name code only its
# checkout has (a custom storage class).
RUN_RECORD = (
    "from dagster import DagsterInstance\n"
    "with DagsterInstance.get() as instance:\n"
    "    (record,) = instance.get_run_records()\n"
    "    print(record.end_time - record.start_time)\n"
)


def child_env(checkout: Path, root: Path, input_dir: Path) -> dict[str, str]:
    """Environment of one run: the checkout's code (``PYTHONPATH``) and instance config, every
    storage tier under ``root``; none of the caller's TMDB/MOVIES/DAGSTER settings."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(checkout / "scripts" / "dagster.yaml", home / "dagster.yaml")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TMDB_", "MOVIES_", "DAGSTER_"))}
    env.update(
        PYTHONPATH=str(checkout),
        DAGSTER_HOME=str(home),
        MOVIES_DUCKDB_PATH=str(root / "warehouse.duckdb"),
        MOVIES_LAKE_DIR=str(root / "lake"),
        MOVIES_BUILD_DUCKDB_PATH=str(root / "build" / "warehouse.duckdb"),
        MOVIES_SERVING_DIR=str(root / "serving"),
        MOVIES_REPORTS_DIR=str(root / "reports"),
        MOVIES_INPUT_DIR=str(input_dir),
        TMDB_SOURCE="snapshot",
        # The bundled server keeps up; the default 40 requests/s would only add waiting.
        TMDB_RATE_LIMIT="500",
    )
    return env


def run_once(side: str, checkout: Path, root: Path, input_dir: Path) -> dict[str, object]:
    """One embedded run; ``run_s`` from the run record, ``command_s`` around the process.

    Raises:
        RuntimeError: the run failed (its output's tail in the message).
    """
    env = child_env(checkout, root, input_dir)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "movie_assets.cli", "--partition", DAY],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
    )
    command_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{side} run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    run_s = float(subprocess.run([sys.executable, "-c", RUN_RECORD], cwd=checkout, env=env, capture_output=True, text=True, check=True).stdout)
    return {
        "side": side,
        "run_s": round(run_s, 1),
        "command_s": round(command_s, 1),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (e.g. a git worktree of main)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--input-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "embedded_run_ab")
    args = parser.parse_args(argv)
    sides = {"before": args.before.resolve(), "after": REPO_ROOT}
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    info = machine_info()
    # Each checkout parses its dbt project once before timing (make install does it too).
    for checkout in sides.values():
        subprocess.run(
            [sys.executable, "-m", "movie_assets.transform.project"],
            cwd=checkout,
            check=True,
            env={**os.environ, "PYTHONPATH": str(checkout)},
            capture_output=True,
        )
    runs = []
    for pair in range(args.pairs):
        order = ["before", "after"] if pair % 2 == 0 else ["after", "before"]
        for side in order:
            runs.append({"pair": pair + 1, **run_once(side, sides[side], args.out / f"{pair + 1}-{side}", args.input_dir)})
            print(runs[-1], flush=True)
    medians = {side: statistics.median(run["run_s"] for run in runs if run["side"] == side) for side in sides}
    commands = {side: statistics.median(run["command_s"] for run in runs if run["side"] == side) for side in sides}
    ratio = round(medians["after"] / medians["before"], 2)
    print(markdown_table(runs, ["pair", "side", "run_s", "command_s", "load_avg_1m"]))
    print(
        f"median run s: before {medians['before']}, after {medians['after']}; after / before {ratio}x "
        f"(command: {commands['before']} / {commands['after']} s)"
    )
    save_json(
        args.out / "embedded_run_ab.json",
        {"machine": info, "runs": runs, "median_run_s": medians, "median_command_s": commands, "ratio_after_over_before": ratio},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
