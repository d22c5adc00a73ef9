"""HTTP client for TMDB API v3 and the Dagster resources that provide it.

Two resources share the same client and differ only in where it points:

- :class:`TMDBResource`: the live API (``TMDB_BASE_URL``), with credentials from the
  environment.
- :class:`SnapshotTMDBResource`: starts :mod:`movie_assets.tmdb_replay` on a free loopback
  port for the length of a run, over a snapshot folder, with a throw-away local key. Used
  when no TMDB credentials are configured (offline runs, CI, tests).
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import urlencode

import requests
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from movie_assets.tmdb_replay import Snapshot, TMDBReplayServer

RETRY_STATUSES = (429, 500, 502, 503, 504)


class TMDBAuthError(RuntimeError):
    """TMDB answered 401: the configured credentials were rejected. Stops the whole run."""


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one ``GET /movie/{id}``.

    Attributes:
        movie_id: the TMDB id asked for.
        http_status: final HTTP status, or None when no response arrived (timeout, refused).
        body: the response body as received (UTF-8 text), or None.
        request_path: path and query as sent, without credentials (e.g. ``/3/movie/550``).
        attempts: requests made, retries included.
        error: why the fetch failed, credentials removed; None on success.
        fetched_at: UTC time the final response arrived.
    """

    movie_id: int
    http_status: int | None
    body: str | None
    request_path: str
    attempts: int
    error: str | None
    fetched_at: datetime


class TMDBClient:
    """A thread-safe TMDB v3 client over one pooled ``requests.Session``.

    Retries (urllib3 ``Retry``) 429/500/502/503/504 and connection errors with exponential
    backoff, honouring ``Retry-After``. 404 is not retried. 401 raises :class:`TMDBAuthError`.

    Args:
        base_url: API root ending in ``/3``.
        api_key: v3 key (query parameter ``api_key``), or None.
        read_access_token: v4 token (``Authorization: Bearer``), or None; preferred when set.
        timeout: connect and read timeout, seconds.
        max_retries: retries per request.
        max_concurrency: worker threads for :meth:`fetch_movies` (and pool size).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        read_access_token: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 5,
        max_concurrency: int = 8,
    ) -> None:
        if not (api_key or read_access_token):
            raise TMDBAuthError("no TMDB credentials: set TMDB_READ_ACCESS_TOKEN or TMDB_API_KEY")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key if not read_access_token else None
        self._secrets = [s for s in (api_key, read_access_token) if s]
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        retry = Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            backoff_factor=0.5,
            backoff_jitter=0.5,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=max_concurrency)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept"] = "application/json"
        if read_access_token:
            self.session.headers["Authorization"] = f"Bearer {read_access_token}"
        self._api_root_path = requests.utils.urlparse(self.base_url).path

    def redact(self, text: str) -> str:
        """Return ``text`` with every configured credential replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _request(self, path: str, params: dict | None = None) -> tuple[requests.Response | None, str, str | None]:
        params = dict(params or {})
        public_path = self._api_root_path + path + (f"?{urlencode(params)}" if params else "")
        if self._api_key:
            params["api_key"] = self._api_key
        try:
            response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            return None, public_path, self.redact(f"{type(exc).__name__}: {exc}")
        if response.status_code == 401:
            raise TMDBAuthError(
                f"TMDB rejected the configured credentials (HTTP 401) at {self.base_url}; "
                "check TMDB_READ_ACCESS_TOKEN / TMDB_API_KEY"
            )
        return response, public_path, None

    def get_json(self, path: str, params: dict | None = None) -> dict:
        """GET ``path`` (relative to the API root) and decode the JSON body.

        Raises:
            TMDBAuthError: HTTP 401.
            RuntimeError: no response after retries, or a non-200 status (message names the path).
        """
        response, public_path, error = self._request(path, params)
        if response is None:
            raise RuntimeError(f"GET {public_path} failed: {error}")
        if response.status_code != 200:
            raise RuntimeError(f"GET {public_path} answered HTTP {response.status_code}: {self.redact(response.text[:200])}")
        return response.json()

    def fetch_movie(self, movie_id: int, append_to_response: str | None = None) -> FetchResult:
        """Fetch ``/movie/{movie_id}`` and keep the body exactly as received."""
        params = {"append_to_response": append_to_response} if append_to_response else None
        response, public_path, error = self._request(f"/movie/{movie_id}", params)
        now = datetime.now(timezone.utc)
        if response is None:
            return FetchResult(movie_id, None, None, public_path, 0, error, now)
        attempts = 1 + len(response.raw.retries.history) if response.raw is not None and response.raw.retries else 1
        failed = None if response.status_code == 200 else f"HTTP {response.status_code}"
        return FetchResult(movie_id, response.status_code, response.text, public_path, attempts, failed, now)

    def fetch_movies(self, movie_ids: Iterable[int], append_to_response: str | None = None) -> Iterator[FetchResult]:
        """Fetch many movies with ``max_concurrency`` threads; yields results as they finish.

        Raises:
            TMDBAuthError: on the first 401, after cancelling the rest.
        """
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="tmdb") as pool:
            yield from pool.map(lambda movie_id: self.fetch_movie(movie_id, append_to_response), movie_ids)

    def close(self) -> None:
        self.session.close()


class TMDBResource(ConfigurableResource):
    """TMDB API v3 (live). Credentials come from ``TMDB_READ_ACCESS_TOKEN`` / ``TMDB_API_KEY``.

    Attributes:
        base_url: API root (``TMDB_BASE_URL``).
        rate_limit: requests/second across all threads (``TMDB_RATE_LIMIT``).
        max_concurrency: worker threads (``TMDB_MAX_CONCURRENCY``).
        timeout: seconds per connect/read (``TMDB_TIMEOUT``).
        max_retries: retries per request (``TMDB_MAX_RETRIES``).
    """

    base_url: str = "https://api.themoviedb.org/3"
    api_key: str | None = None
    read_access_token: str | None = None
    rate_limit: float = 40.0
    max_concurrency: int = 8
    timeout: float = 10.0
    max_retries: int = 5

    def _endpoint(self) -> tuple[str, str | None, str | None]:
        return self.base_url, self.api_key, self.read_access_token

    def get_client(self) -> TMDBClient:
        """A new :class:`TMDBClient`; the caller closes it."""
        base_url, api_key, token = self._endpoint()
        return TMDBClient(
            base_url,
            api_key=api_key,
            read_access_token=token,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_concurrency=self.max_concurrency,
        )


class SnapshotTMDBResource(TMDBResource):
    """TMDB served from a local snapshot over real HTTP on 127.0.0.1.

    For the length of each run it starts :class:`~movie_assets.tmdb_replay.TMDBReplayServer`
    over ``snapshot_dir`` (layout of ``../shared/data/tmdb``) with a random local key, and
    clients from :meth:`get_client` talk to it exactly as they would to TMDB.

    Attributes:
        snapshot_dir: folder holding ``genres.json`` and the movies file.
        movies_file: which ``*.jsonl.gz`` in it to serve (one observation of the catalogue).
    """

    snapshot_dir: str
    movies_file: str = "movies.jsonl.gz"
    _server: TMDBReplayServer | None = PrivateAttr(default=None)
    _local_key: str = PrivateAttr(default_factory=lambda: secrets.token_hex(16))

    def setup_for_execution(self, context: InitResourceContext) -> None:
        snapshot = Snapshot.load(Path(self.snapshot_dir), self.movies_file)
        self._server = TMDBReplayServer(snapshot, api_key=self._local_key).start()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _endpoint(self) -> tuple[str, str | None, str | None]:
        if self._server is None:
            raise RuntimeError("SnapshotTMDBResource is used outside a run: its server is not started")
        return self._server.base_url, self._local_key, None

