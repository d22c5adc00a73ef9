"""The service against the embedded run: the sample day through ``make up``'s queue and
through ``make run`` without the service, and the service's idle memory.

Starts the service (``python -m movie_assets.automation.service up``) with its own data root,
folders and free loopback ports under ``--out``, the schedules off and the provider sensor
stopped (its runs would queue ahead of the measured ones; any it started are let end), waits ``--settle`` seconds and sums the RSS
of supervisord and every process under it (PostgreSQL, code server, webserver, daemon,
dashboard) as its idle memory. Then, for each of ``--pairs`` pairs, alternately:

- **service**: ``python -m movie_assets.cli --partition DAY`` while the service is up (it
  submits the run to the service's queue and follows it to the end);
- **embedded**: the same command with ``MOVIES_SERVICE_DIR`` pointing at a folder the service
  never used, so the run executes in-process into the SQLite instance of
  ``scripts/dagster.yaml``.

Both sides use the same lake, build file and serving folder, one after the other: the same
dbt vars (so neither side's dbt re-parses for the other's paths, the manifest being shared)
and the same work (a re-run of the same day). One untimed embedded run first builds the day,
so every timed run is a re-run. Each side's wall time is the command's, start to exit (the
printed summary included). The service is stopped at the end.

Run::

    .venv/bin/python bench/service.py --pairs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from _common import REPO_ROOT, RESULTS_DIR, machine_info, save_json

# Today (UTC): a past day without an observation lands nothing and skips the models (the
# rule against passing today's values off as a past day), so only today is a whole run.
DAY = datetime.now(UTC).date().isoformat()
MIB = 1024**2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _data_env(root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TMDB_", "MOVIES_", "DAGSTER_"))}
    env.update(
        MOVIES_DUCKDB_PATH=str(root / "warehouse.duckdb"),
        MOVIES_LAKE_DIR=str(root / "lake"),
        MOVIES_BUILD_DUCKDB_PATH=str(root / "build" / "warehouse.duckdb"),
        MOVIES_SERVING_DIR=str(root / "serving"),
        MOVIES_REPORTS_DIR=str(root / "reports"),
        MOVIES_SERVICE_DIR=str(root / "service"),
        MOVIES_LOG_DIR=str(root / "logs"),
        TMDB_SOURCE="snapshot",
        MOVIES_SCHEDULE_ENABLED="false",
    )
    return env


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def _tree_rss(pid: int) -> tuple[int, int]:
    """(bytes of RSS summed over ``pid`` and its descendants, number of processes)."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    return sum(process.memory_info().rss for process in processes), len(processes)


def _quiet(env: dict[str, str], timeout: float = 1800) -> None:
    """Stop the provider sensor (after its first tick) and wait until no run is in flight."""
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    from movie_assets.automation.service import Service
    from movie_assets.settings import Settings

    service = Service(Settings(_env_file=None, **{key: value for key, value in env.items() if key.startswith(("MOVIES_", "TMDB_"))}))
    os.environ["MOVIES_DAGSTER_PG_URL"] = service.postgres_url()
    stop = [str(Path(sys.executable).parent / "dagster"), "sensor", "stop", "provider_files_sensor", "-w", str(service.workspace)]
    subprocess.run(stop, env=service.environment(), check=True, capture_output=True)
    active = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    deadline = time.monotonic() + timeout
    with DagsterInstance.from_config(str(service.dagster_home)) as instance:
        while instance.get_run_records(filters=RunsFilter(statuses=active)) and time.monotonic() < deadline:
            time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--settle", type=float, default=30.0, help="seconds between make up and the idle RSS sample")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one, deleted)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-service-"))
    # The local cluster runs as the postgres user, which must be able to enter its folder.
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o711)
    python = str(Path(sys.executable))
    service_env = _data_env(out / "service_root")
    service_env.update(
        MOVIES_PG_DIR=str(out / "postgres"),
        MOVIES_PG_PORT=str(_free_port()),
        MOVIES_WEBSERVER_PORT=str(_free_port()),
        MOVIES_CODE_SERVER_PORT=str(_free_port()),
        MOVIES_DASHBOARD_PORT=str(_free_port()),
    )
    embedded_env = {**service_env, "MOVIES_SERVICE_DIR": str(out / "no_service"), "DAGSTER_HOME": str(out / "embedded_home")}
    Path(embedded_env["DAGSTER_HOME"]).mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "dagster.yaml", Path(embedded_env["DAGSTER_HOME"]) / "dagster.yaml")
    result = {"machine": machine_info(), "day": DAY, "pairs": []}
    service_cli = [python, "-m", "movie_assets.automation.service"]
    result["up_seconds"] = round(_timed([*service_cli, "up"], service_env), 1)
    try:
        _quiet(service_env)
        time.sleep(args.settle)
        pid = int((out / "service_root" / "service" / "supervisord.pid").read_text())
        rss, processes = _tree_rss(pid)
        result["idle_rss_mib"], result["idle_processes"] = round(rss / MIB), processes
        print(f"service up in {result['up_seconds']} s; idle RSS {result['idle_rss_mib']} MiB over {processes} processes", flush=True)
        run = [python, "-m", "movie_assets.cli", "--partition", DAY]
        result["warmup_embedded_s"] = round(_timed(run, embedded_env), 1)
        for pair in range(args.pairs):
            service_seconds = _timed(run, service_env)
            embedded_seconds = _timed(run, embedded_env)
            ratio = service_seconds / embedded_seconds
            result["pairs"].append(
                {
                    "service_s": round(service_seconds, 1),
                    "embedded_s": round(embedded_seconds, 1),
                    "ratio": round(ratio, 2),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                }
            )
            print(f"pair {pair + 1}: service {service_seconds:.1f} s, embedded {embedded_seconds:.1f} s, ratio {ratio:.2f}x", flush=True)
    finally:
        _timed([*service_cli, "down"], service_env)
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    save_json(RESULTS_DIR / "service.json", result)


if __name__ == "__main__":
    main()
