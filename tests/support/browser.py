"""Start the dashboard as ``make dashboard`` does and drive it in headless Chromium.

Shared by the browser test (``tests/integration/test_dashboard.py``) and
``scripts/dashboard_screenshot.py`` (the README's screenshot); a dev tool, not part of the
product. Needs the Debian packages
``chromium`` and ``chromium-driver`` and the dev extra's ``selenium``; nothing is downloaded:
the browser and driver are the system's, and Chromium runs with a fresh profile and
background networking off, so it talks to nothing but the app on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from movie_assets.settings import REPO_ROOT

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM_FLAGS = (
    "--headless=new",
    # Root in a container has no user namespace for the sandbox.
    "--no-sandbox",
    "--disable-gpu",
    # /dev/shm is small in containers; Chromium then crashes on large pages.
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMEDRIVER_NAMES = ("chromedriver", "chromium-driver")
#: How long the app may take to answer its health check; its first start imports pandas/altair.
STARTUP_TIMEOUT_SECONDS = 60.0


class BrowserUnavailable(RuntimeError):
    """Chromium, chromium-driver or selenium is not installed; the message says how to get it."""


def find_browser() -> tuple[str, str]:
    """``(chromium path, chromedriver path)`` from PATH (Debian installs the driver as
    /usr/bin/chromedriver).

    Raises:
        BrowserUnavailable: one of them is missing.
    """
    chromium = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    driver = next(filter(None, map(shutil.which, CHROMEDRIVER_NAMES)), None)
    if chromium is None or driver is None:
        raise BrowserUnavailable("headless Chromium needs the Debian packages chromium and chromium-driver: apt-get install chromium chromium-driver")
    return chromium, driver


@contextmanager
def running_dashboard(duckdb_path: Path, port: int, log_path: Path) -> Iterator[str]:
    """Run ``make dashboard`` (this interpreter's venv, ``MOVIES_DUCKDB_PATH=duckdb_path``,
    ``MOVIES_DASHBOARD_PORT=port``) until the block ends; yields the app's base URL once its
    health check answers. The whole process group (make, streamlit) is stopped afterwards.

    Raises:
        TimeoutError: no healthy answer within :data:`STARTUP_TIMEOUT_SECONDS`.
        RuntimeError: the app exited before answering (its output is in ``log_path``).
    """
    env = dict(os.environ, MOVIES_DUCKDB_PATH=str(duckdb_path), MOVIES_DASHBOARD_PORT=str(port))
    with open(log_path, "wb") as log:
        app = subprocess.Popen(
            ["make", "--no-print-directory", "-C", str(REPO_ROOT), "dashboard", f"BIN={Path(sys.executable).parent}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, app, log_path)
        yield base_url
    finally:
        _stop_group(app)


def _wait_until_healthy(base_url: str, app: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {app.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"the dashboard at {base_url} did not answer in {STARTUP_TIMEOUT_SECONDS:.0f} s; see {log_path}")


def _stop_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def headless_chromium(width: int = 1400, height: int = 1000) -> Iterator[WebDriver]:
    """A Selenium driver for headless Chromium with a fresh throw-away profile, window
    ``width`` × ``height`` CSS pixels; quit afterwards.

    Raises:
        BrowserUnavailable: chromium, chromium-driver or selenium is missing.
    """
    chromium, driver_path = find_browser()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BrowserUnavailable("selenium is not installed: pip install -e '.[dev]'") from None
    with tempfile.TemporaryDirectory(prefix="dashboard-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        try:
            yield driver
        finally:
            driver.quit()


def wait_for_text(driver: WebDriver, text: str, timeout: float = 30.0) -> None:
    """Block until ``text`` is in the page's visible text.

    Raises:
        selenium.common.exceptions.TimeoutException: not within ``timeout`` seconds.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)


def wait_until_rendered(driver: WebDriver, timeout: float = 30.0) -> None:
    """Block until the script run has finished and every element is drawn: no status widget
    ("Running…"), no loading skeleton, and every chart has its SVG or canvas.

    Raises:
        selenium.common.exceptions.TimeoutException: not within ``timeout`` seconds.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def rendered(d: WebDriver) -> bool:
        if d.find_elements(By.CSS_SELECTOR, '[data-testid="stSkeleton"], [data-testid="stStatusWidget"]'):
            return False
        charts = d.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]')
        return bool(charts) and all(chart.find_elements(By.CSS_SELECTOR, "svg, canvas") for chart in charts)

    WebDriverWait(driver, timeout).until(rendered)


def choose_option(driver: WebDriver, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (typing it, then Enter)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for box in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]'):
        if box.find_element(By.CSS_SELECTOR, '[data-testid="stWidgetLabel"]').text.strip() == label:
            field = box.find_element(By.TAG_NAME, "input")
            field.click()
            field.send_keys(option)
            field.send_keys(Keys.ENTER)
            return
    raise LookupError(f"no selectbox labelled {label!r} on the page")
