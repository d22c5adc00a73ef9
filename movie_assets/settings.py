"""The product's configuration contract: environment variables, also read from `.env`.

Every name here is part of the public interface (README, "Configuration"). Paths are
resolved against the repository root and written back to the environment as absolute
paths, because dbt runs as a child process in `dbt_project/` and must open the same
DuckDB file the Python assets write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TMDB_BASE_URL = "https://api.themoviedb.org/3"
DEFAULT_SAMPLE_INPUT_DIR = REPO_ROOT.parent / "shared" / "data"


def _resolve(path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (REPO_ROOT / candidate).resolve()


def _number(name: str, default: float, kind: type = float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a {kind.__name__}, got {raw!r}") from None
    if value <= 0 and name != "TMDB_MAX_RETRIES":
        raise ValueError(f"{name} must be positive, got {raw!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Resolved configuration.

    Attributes:
        tmdb_base_url: TMDB API v3 root, e.g. ``https://api.themoviedb.org/3``.
        tmdb_read_access_token: v4 bearer token, or None. Never logged.
        tmdb_api_key: v3 key sent as ``api_key`` query parameter, or None. Never logged.
        tmdb_rate_limit: requests/second allowed across all threads.
        tmdb_max_concurrency: worker threads fetching details.
        tmdb_timeout: connect and read timeout, seconds.
        tmdb_max_retries: retries per request on 429/5xx/connection errors.
        duckdb_path: absolute path of the warehouse file.
        input_dir: folder laid out like ``../shared/data`` (``tmdb/``, ``ids/``, ``providers/``).
        reports_dir: folder for the Excel workbook, CSV exports and ``charts/``.
    """

    tmdb_base_url: str
    tmdb_read_access_token: str | None
    tmdb_api_key: str | None
    tmdb_rate_limit: float
    tmdb_max_concurrency: int
    tmdb_timeout: float
    tmdb_max_retries: int
    duckdb_path: Path
    input_dir: Path
    reports_dir: Path

    @property
    def has_tmdb_credentials(self) -> bool:
        return bool(self.tmdb_read_access_token or self.tmdb_api_key)

    def __repr__(self) -> str:  # keeps credentials out of tracebacks and logs
        return (
            f"Settings(tmdb_base_url={self.tmdb_base_url!r}, credentials="
            f"{'set' if self.has_tmdb_credentials else 'unset'}, duckdb_path={str(self.duckdb_path)!r}, "
            f"input_dir={str(self.input_dir)!r}, reports_dir={str(self.reports_dir)!r})"
        )

    __str__ = __repr__


def load_settings() -> Settings:
    """Read the configuration from the environment (and `.env` in the repository root).

    Creates the warehouse file's folder. Exports ``MOVIES_DUCKDB_PATH``, ``MOVIES_INPUT_DIR`` and ``MOVIES_REPORTS_DIR`` back to
    ``os.environ`` as absolute paths so child processes (dbt) agree with this process.

    Raises:
        ValueError: a numeric variable is not a number or out of range.
    """
    load_dotenv(REPO_ROOT / ".env", override=False)
    token = os.environ.get("TMDB_READ_ACCESS_TOKEN", "").strip() or None
    api_key = os.environ.get("TMDB_API_KEY", "").strip() or None
    input_default = str(DEFAULT_SAMPLE_INPUT_DIR)
    settings = Settings(
        tmdb_base_url=os.environ.get("TMDB_BASE_URL", "").strip().rstrip("/") or DEFAULT_TMDB_BASE_URL,
        tmdb_read_access_token=token,
        tmdb_api_key=api_key,
        tmdb_rate_limit=_number("TMDB_RATE_LIMIT", 40.0),
        tmdb_max_concurrency=int(_number("TMDB_MAX_CONCURRENCY", 8, int)),
        tmdb_timeout=_number("TMDB_TIMEOUT", 10.0),
        tmdb_max_retries=int(_number("TMDB_MAX_RETRIES", 5, int)),
        duckdb_path=_resolve(os.environ.get("MOVIES_DUCKDB_PATH", "").strip() or "data/warehouse.duckdb"),
        input_dir=_resolve(os.environ.get("MOVIES_INPUT_DIR", "").strip() or input_default),
        reports_dir=_resolve(os.environ.get("MOVIES_REPORTS_DIR", "").strip() or "data/reports"),
    )
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    os.environ["MOVIES_DUCKDB_PATH"] = str(settings.duckdb_path)
    os.environ["MOVIES_INPUT_DIR"] = str(settings.input_dir)
    os.environ["MOVIES_REPORTS_DIR"] = str(settings.reports_dir)
    return settings
