"""Screenshot the Dagster UI's asset graph in headless Chromium (``make screenshot``).

Starts ``dagster-webserver -w workspace.yaml`` on a free loopback port over the instance in
``$DAGSTER_HOME`` (the Makefile's ``data/dagster_home``; run ``make run`` first so the
assets carry materialization metadata), waits until the code location has loaded, and has
Chromium render the page to a PNG. The webserver and the browser are stopped afterwards.

    .venv/bin/python scripts/ui_screenshot.py [--path /asset-groups] [--out data/screenshots/asset_graph.png]

Needs Chromium (Debian: ``apt-get install chromium``); the test suite does not. The browser
runs with a fresh profile, without sandbox/GPU, and with background networking off, so it
talks to nothing but the local webserver.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
LOCATION_LOADED = '{"query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"}'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_code_location(base_url: str, timeout: float) -> None:
    """Poll the webserver's GraphQL API until the code location is LOADED.

    Raises:
        TimeoutError: not loaded within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(f"{base_url}/graphql", data=LOCATION_LOADED.encode(), headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                return
        except (OSError, KeyError, TypeError, ValueError):
            pass
        time.sleep(1)
    raise TimeoutError(f"the Dagster webserver at {base_url} did not load the code location in {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/asset-groups", help="UI page to capture (default: the global asset graph)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "screenshots" / "asset_graph.png")
    parser.add_argument("--window-size", default="1920,1080")
    parser.add_argument("--render-ms", type=int, default=20000, help="time Chromium gives the page to render")
    args = parser.parse_args(argv)

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        print("error: Chromium not found; on Debian: apt-get install chromium", file=sys.stderr)
        return 2
    if "DAGSTER_HOME" not in os.environ:
        print("error: set DAGSTER_HOME (make screenshot sets it to data/dagster_home)", file=sys.stderr)
        return 2
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    webserver_bin = Path(sys.executable).with_name("dagster-webserver")
    webserver = subprocess.Popen(
        [str(webserver_bin), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_code_location(base_url, timeout=180)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            subprocess.run(
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile}",
                    f"--window-size={args.window_size}",
                    f"--virtual-time-budget={args.render_ms}",
                    f"--screenshot={args.out}",
                    f"{base_url}{args.path}",
                ],
                check=True,
                timeout=300,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    finally:
        os.killpg(webserver.pid, signal.SIGTERM)
        try:
            webserver.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(webserver.pid, signal.SIGKILL)
            webserver.wait()
    print(f"saved {args.out} ({base_url}{args.path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
