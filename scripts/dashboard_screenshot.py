"""Screenshot of the analysts' dashboard for the README (``make dashboard-screenshot``).

Starts the dashboard as ``make dashboard`` does, on a free loopback port over
``MOVIES_DUCKDB_PATH`` (default ``data/warehouse.duckdb``: run ``make run`` first), opens it in
headless Chromium with the browser test's helpers (``tests/support/browser.py``) and
saves the top of the page as a PNG. App and browser are stopped afterwards.

    .venv/bin/python scripts/dashboard_screenshot.py [--out docs/dashboard.png] [--height 1400]

Needs the Debian packages chromium and chromium-driver and the dev extra (selenium).
"""

import argparse
import sys
import tempfile
from pathlib import Path

from movie_assets.serving.dashboard_queries import dashboard_settings
from movie_assets.settings import REPO_ROOT

# The browser harness is a dev tool beside the tests, not part of the product.
sys.path.insert(0, str(REPO_ROOT / "tests"))

from support.browser import BrowserUnavailable, headless_chromium, running_dashboard, wait_until_rendered  # noqa: E402
from support.ports import free_port  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "dashboard.png")
    parser.add_argument("--width", type=int, default=1280, help="window width, CSS pixels")
    parser.add_argument("--height", type=int, default=1400, help="window height, CSS pixels: how much of the page shows")
    args = parser.parse_args(argv)

    duckdb_path = dashboard_settings().duckdb_path
    if not duckdb_path.exists():
        print(f"error: no warehouse at {duckdb_path}; run `make run` first", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="dashboard-screenshot-") as scratch:
            with running_dashboard(duckdb_path, free_port(), Path(scratch) / "dashboard.log") as url:
                with headless_chromium(args.width, args.height) as driver:
                    driver.get(url)
                    wait_until_rendered(driver)
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    driver.save_screenshot(str(args.out))
    except BrowserUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"saved {args.out} ({url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
