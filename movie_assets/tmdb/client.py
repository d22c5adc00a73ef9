"""HTTP client for TMDB API v3: rate limiting shared by threads, retries with full-jitter
backoff (urllib3 ``Retry``), payload validation, credentials redacted from every log line.

The client talks to whatever ``base_url`` it is given; the Dagster resources that choose the
live API or the local snapshot server are in :mod:`movie_assets.tmdb.resources`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import takewhile
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)
#: TMDB serves no list page (discover, changes) above this one.
MAX_PAGE = 500

#: Dead-letter reasons of a fetch. ``not-found`` (404) and ``http-error`` (another 4xx) are
#: final; the others may succeed later and are what the retry job re-fetches.
RETRYABLE_REASONS = frozenset({"retries-exhausted", "timeout", "connection-error", "bad-payload"})


class TMDBAuthError(RuntimeError):
    """TMDB answered 401: the configured credentials were rejected. Stops the whole run."""


class SlidingWindowRateLimiter:
    """A rate limit shared by threads: at most ``capacity`` grants in any ``window`` seconds,
    paced ``window / capacity`` apart.

    It keeps the times of the last ``capacity`` grants (a sliding log), so unlike a token
    bucket that starts full it never lets 2x the rate through a window that straddles a
    refill; and it paces grants evenly instead of releasing a window's worth at once, so a
    server that falls briefly behind never sees a burst bunched with the next window's.
    For ``rate`` >= 1 the capacity is ``floor(rate)`` per second; below 1 it is one grant
    per ``1/rate`` seconds. ``margin`` (seconds) widens the window to absorb jitter between
    a grant and the request reaching the server (up to 40 ms at the default; measured up to
    31 ms on a loaded 2-core machine, while the first connections open);
    it costs ``margin / (1 + margin)`` of the rate. :meth:`pause` stops all grants for a
    while (a 429 with ``Retry-After`` applies to the whole client, not one thread).

    pyrate-limiter 4.5's ``Limiter(Rate(40, Duration.SECOND))`` was tried first: with 16
    threads it let 48 requests into one second (it advances a waiting item's timestamp by
    its planned sleep instead of reading the clock), so this small log is used instead.

    Args:
        rate: requests/second, > 0.
        margin: extra seconds added to the window.

    Attributes:
        grant_times: ``time.monotonic()`` of every grant, seconds, in grant order, read under
            the lock at the moment of the grant: the limiter's own record of what it let
            through (one float per request, for the client's life).
        pauses: ``(from, until)`` in ``time.monotonic()`` seconds of every :meth:`pause`.

    Raises:
        ValueError: ``rate`` is not positive.
    """

    def __init__(self, rate: float, margin: float = 0.04) -> None:
        if rate <= 0:
            raise ValueError(f"rate limit must be positive, got {rate!r} requests/second")
        self.capacity = int(rate) if rate >= 1 else 1
        self.window = (1.0 if rate >= 1 else 1.0 / rate) + margin
        self.spacing = self.window / self.capacity
        self.grant_times: list[float] = []
        self.pauses: list[tuple[float, float]] = []
        self._grants: deque[float] = deque()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until a request may be sent, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                while self._grants and now - self._grants[0] >= self.window:
                    self._grants.popleft()
                delay = max(self._paused_until, self._next_slot) - now
                if len(self._grants) >= self.capacity:
                    delay = max(delay, self._grants[0] + self.window - now)
                if delay <= 0:
                    self._grants.append(now)
                    # Stay on the pacing grid when a thread wakes late, but never bank idle slots.
                    self._next_slot = max(self._next_slot, now - self.spacing) + self.spacing
                    self.grant_times.append(now)
                    return
            time.sleep(delay)

    @property
    def granted(self) -> int:
        """Grants so far."""
        return len(self.grant_times)

    def pause(self, seconds: float) -> None:
        """Grant nothing for the next ``seconds`` seconds."""
        with self._lock:
            now = time.monotonic()
            self._paused_until = max(self._paused_until, now + seconds)
            self.pauses.append((now, self._paused_until))


class FullJitterRetry(Retry):
    """urllib3 ``Retry`` with "full jitter" backoff: sleep uniform(0, min(backoff_max,
    backoff_factor * 2**(n-1))) seconds after the n-th consecutive failure, so threads that
    failed together do not retry together. ``Retry-After`` still wins when present.

    With a ``limiter``, every retry attempt also takes a slot of it after its backoff
    (urllib3 calls :meth:`sleep` before each retry, the public hook between attempts), and a
    429 with ``Retry-After: <seconds>`` pauses the limiter for every thread.
    """

    def __init__(self, *args, limiter: SlidingWindowRateLimiter | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limiter = limiter

    def new(self, **kwargs) -> FullJitterRetry:
        retry = super().new(**kwargs)
        retry.limiter = self.limiter
        return retry

    def get_backoff_time(self) -> float:
        consecutive = len(list(takewhile(lambda entry: entry.redirect_location is None, reversed(self.history))))
        if consecutive == 0:
            return 0.0
        return random.uniform(0.0, min(self.backoff_max, self.backoff_factor * 2 ** (consecutive - 1)))

    def sleep(self, response=None) -> None:
        if self.limiter is not None and response is not None and response.status == 429:
            retry_after = (response.headers.get("Retry-After") or "").strip()
            if retry_after.isdigit():
                self.limiter.pause(int(retry_after))
        super().sleep(response)
        if self.limiter is not None:
            self.limiter.acquire()


class RateLimitedAdapter(HTTPAdapter):
    """A requests ``HTTPAdapter`` that takes a slot of ``limiter`` before each request's first
    attempt; its retries take theirs in :meth:`FullJitterRetry.sleep`."""

    def __init__(self, limiter: SlidingWindowRateLimiter, **kwargs) -> None:
        self.limiter = limiter
        super().__init__(**kwargs)

    def send(self, request, *args, **kwargs):
        self.limiter.acquire()
        return super().send(request, *args, **kwargs)


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one GET (a movie's details, or a discover / changes page).

    Attributes:
        movie_id: the TMDB id asked for, or None for a page.
        http_status: final HTTP status, or None when no response arrived (timeout, refused).
        body: the response body as received (UTF-8 text), or None.
        request_path: path and query as sent, without credentials (e.g. ``/3/movie/550``).
        attempts: requests made, retries included.
        reason: None on success, else the dead-letter reason: ``not-found`` (404),
            ``bad-payload`` (200 whose body is not JSON or lacks an integer ``id`` /
            expected key), ``retries-exhausted`` (429/5xx on every attempt), ``timeout``,
            ``connection-error``, ``http-error`` (any other status).
        error: why it failed, credentials removed; None on success.
        fetched_at: UTC time the final response arrived.
    """

    movie_id: int | None
    http_status: int | None
    body: str | None
    request_path: str
    attempts: int
    reason: str | None
    error: str | None
    fetched_at: datetime

    @property
    def ok(self) -> bool:
        return self.reason is None

    def json(self) -> dict:
        """The decoded body (only meaningful when :attr:`ok`)."""
        return json.loads(self.body or "null")


class _RedactingFilter(logging.Filter):
    """Removes credentials from urllib3's own log records (at DEBUG it logs every URL,
    ``api_key`` included)."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager")


def _payload_problem(body: str, required_key: str) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return f"body is not valid JSON: {exc}"
    if not isinstance(payload, dict) or required_key not in payload:
        return f"body is JSON but has no {required_key!r}"
    if required_key == "id" and (not isinstance(payload["id"], int) or isinstance(payload["id"], bool)):
        return f"body's 'id' is not an integer: {payload['id']!r}"
    return None


class TMDBClient:
    """A thread-safe TMDB v3 client over one pooled ``requests.Session``.

    Every HTTP attempt, retries included, passes one :class:`SlidingWindowRateLimiter`
    (``rate_limit`` requests/second over any window of a second). Retries
    (:class:`FullJitterRetry`, urllib3) cover 429/500/502/503/504, connection errors and
    timeouts, with exponential backoff and full jitter, honouring ``Retry-After``. 404 is
    not retried. 401 raises :class:`TMDBAuthError` naming neither credential.

    Args:
        base_url: API root ending in ``/3``.
        api_key: v3 key (query parameter ``api_key``), or None.
        read_access_token: v4 token (``Authorization: Bearer``), or None; preferred when set.
        timeout: connect and read timeout, seconds.
        max_retries: retries per request.
        max_concurrency: worker threads for :meth:`fetch_movies` (and pool size).
        rate_limit: requests/second across all threads.
        backoff_factor: seconds; the n-th retry waits up to ``backoff_factor * 2**(n-1)``.
        backoff_max: cap on one backoff, seconds.

    Attributes:
        retries: retries made so far (all requests of this client).
        requests_sent: HTTP requests sent so far, retries included.
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
        rate_limit: float = 40.0,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        if not (api_key or read_access_token):
            raise TMDBAuthError("no TMDB credentials: set TMDB_READ_ACCESS_TOKEN or TMDB_API_KEY")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key if not read_access_token else None
        self._secrets = [s for s in (api_key, read_access_token) if s]
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_concurrency = max_concurrency
        self.limiter = SlidingWindowRateLimiter(rate_limit)
        self.retries = 0
        self._count_lock = threading.Lock()
        retry = FullJitterRetry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            limiter=self.limiter,
        )
        self.session = requests.Session()
        adapter = RateLimitedAdapter(self.limiter, max_retries=retry, pool_connections=1, pool_maxsize=max_concurrency)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept"] = "application/json"
        if read_access_token:
            self.session.headers["Authorization"] = f"Bearer {read_access_token}"
        self._api_root_path = requests.utils.urlparse(self.base_url).path
        self._log_filter = _RedactingFilter(self.redact)
        for name in _URLLIB3_LOGGERS:
            logging.getLogger(name).addFilter(self._log_filter)

    @property
    def requests_sent(self) -> int:
        return self.limiter.granted

    def redact(self, text: str) -> str:
        """Return ``text`` with every configured credential replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _count_retries(self, attempts: int) -> None:
        with self._count_lock:
            self.retries += attempts - 1

    def fetch(self, path: str, params: dict | None = None, *, movie_id: int | None = None, required_key: str = "id") -> FetchResult:
        """GET ``path`` (relative to the API root) and classify the outcome.

        A 200 must be a JSON object holding ``required_key``, else ``bad-payload``.

        Raises:
            TMDBAuthError: HTTP 401 (the message names neither credential).
        """
        params = dict(params or {})
        public_path = self._api_root_path + path + (f"?{urlencode(params)}" if params else "")
        if self._api_key:
            params["api_key"] = self._api_key
        try:
            response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            cause = exc.args[0] if exc.args else None
            reason_error = cause.reason if isinstance(cause, MaxRetryError) else cause
            # urllib3's NewConnectionError (refused, unreachable) subclasses ConnectTimeoutError.
            timed_out = not isinstance(reason_error, NewConnectionError) and (
                isinstance(exc, requests.Timeout) or isinstance(reason_error, (ReadTimeoutError, ConnectTimeoutError))
            )
            attempts = self.max_retries + 1 if isinstance(cause, MaxRetryError) else 1
            self._count_retries(attempts)
            error = self.redact(f"{type(exc).__name__}: {exc}")
            return FetchResult(
                movie_id,
                None,
                None,
                public_path,
                attempts,
                "timeout" if timed_out else "connection-error",
                error,
                datetime.now(UTC),
            )
        now = datetime.now(UTC)
        history = response.raw.retries.history if response.raw is not None and response.raw.retries else ()
        attempts = 1 + len(history)
        self._count_retries(attempts)
        status = response.status_code
        if status == 401:
            raise TMDBAuthError(
                f"TMDB rejected the configured credentials (HTTP 401) at {self.base_url}: check TMDB_READ_ACCESS_TOKEN / TMDB_API_KEY"
            )
        body = response.text
        if status == 200:
            problem = _payload_problem(body, required_key)
            reason = None if problem is None else "bad-payload"
        elif status == 404:
            reason, problem = "not-found", "HTTP 404"
        else:
            reason = "retries-exhausted" if status in RETRY_STATUSES else "http-error"
            problem = f"HTTP {status} after {attempts} attempt(s): {body[:200]}"
        error = None if problem is None else self.redact(problem)
        return FetchResult(movie_id, status, body, public_path, attempts, reason, error, now)

    def fetch_movie(self, movie_id: int, append_to_response: str | None = None) -> FetchResult:
        """Fetch ``/movie/{movie_id}`` and keep the body exactly as received."""
        params = {"append_to_response": append_to_response} if append_to_response else None
        return self.fetch(f"/movie/{movie_id}", params, movie_id=movie_id)

    def fetch_movies(self, movie_ids: Iterable[int], append_to_response: str | None = None) -> Iterator[FetchResult]:
        """Fetch many movies with ``max_concurrency`` threads; yields results as they finish.

        At most ``2 * max_concurrency`` fetches are queued at a time, so a 401 stops the run
        within a few requests.

        Raises:
            TMDBAuthError: on the first 401; queued fetches are cancelled.
        """
        ids = iter(movie_ids)
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="tmdb") as pool:
            pending: set[Future] = set()
            try:
                while True:
                    for movie_id in ids:
                        pending.add(pool.submit(self.fetch_movie, movie_id, append_to_response))
                        if len(pending) >= 2 * self.max_concurrency:
                            break
                    if not pending:
                        return
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
            except BaseException:
                for future in pending:
                    future.cancel()
                raise

    def close(self) -> None:
        self.session.close()
        for name in _URLLIB3_LOGGERS:
            logging.getLogger(name).removeFilter(self._log_filter)
