"""The bundled TMDB server (:mod:`movie_assets.tmdb.replay_server`) made to misbehave the way a
real API does, and to record what it saw: for tests and benchmarks, not part of the product.

:class:`FaultyReplayServer` answers like :class:`~movie_assets.tmdb.replay_server.TMDBReplayServer`
(same snapshot, routes and credentials check) through :class:`FaultyHandler`, which adds the
:class:`Faults` in force (latency, a share of 5xx answers, 429 bursts with ``Retry-After``,
stalls past the client's timeout, malformed or id-less bodies) and records every answered
request in ``request_log`` (arrival time, path without credentials, status), so benchmarks can
measure the achieved rate on the server's side.

Run it in its own process (``bench/ingest.py`` does, as TMDB is another machine), from the
``tests`` folder or with it on ``PYTHONPATH``::

    python -m support.tmdb_faults --snapshot DIR --port 0 --api-key KEY --latency 0.2 --request-log log.jsonl

It prints ``serving ... at <base url>`` first and, on SIGTERM or Ctrl-C, writes the request log
as JSON lines ``{"at", "path", "status"}``.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from movie_assets.tmdb.replay_server import (
    ReplayHandler,
    Snapshot,
    TMDBReplayServer,
    argument_parser,
    serve_until_stopped,
)

SERVER_ERROR = {"success": False, "status_code": 11, "status_message": "Internal error: Something went wrong, contact TMDb."}
RATE_LIMITED = {"success": False, "status_code": 25, "status_message": "Your request count is over the allowed limit."}
#: Query parameters that carry credentials: left out of the request log.
CREDENTIAL_PARAMS = {"api_key"}


@dataclass(frozen=True)
class Faults:
    """Ways the replay server misbehaves. All default to off.

    Attributes:
        latency: seconds added before every answer.
        error_share: share (0-1) of movie ids, picked by a stable hash of ``seed`` and the
            id, whose first ``error_attempts`` requests answer 500/502/503/504 in turn.
        error_attempts: see ``error_share``.
        failing_ids: movie ids that always answer 503.
        burst_429_after: after this many requests (server-wide), a burst of
            ``burst_429_length`` requests answers 429 with ``Retry-After: retry_after``.
        burst_429_length: length of that burst, requests.
        retry_after: the ``Retry-After`` value, whole seconds.
        stall_ids: movie id -> how many of its first requests stall for ``stall_seconds``
            before answering (past a client's read timeout).
        stall_seconds: how long a stall lasts, seconds.
        malformed_ids: movie ids answered 200 with a body cut in the middle (not JSON).
        idless_ids: movie ids answered 200 with a JSON object that lacks ``id``.
        seed: changes which ids ``error_share`` picks.
    """

    latency: float = 0.0
    error_share: float = 0.0
    error_attempts: int = 1
    failing_ids: frozenset[int] = frozenset()
    burst_429_after: int | None = None
    burst_429_length: int = 0
    retry_after: int = 1
    stall_ids: dict[int, int] = field(default_factory=dict)
    stall_seconds: float = 5.0
    malformed_ids: frozenset[int] = frozenset()
    idless_ids: frozenset[int] = frozenset()
    seed: int = 0

    def flaky(self, movie_id: int) -> bool:
        """Whether ``movie_id`` is one of the ``error_share`` ids."""
        return zlib.crc32(f"{self.seed}:{movie_id}".encode()) % 10_000 < self.error_share * 10_000


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it: ``at`` (``time.monotonic()`` on arrival, seconds),
    ``path`` (path and query without credentials), ``status`` (HTTP status answered)."""

    at: float
    path: str
    status: int


class FaultyHandler(ReplayHandler):
    """:class:`~movie_assets.tmdb.replay_server.ReplayHandler` with ``server.faults`` applied
    and every answer recorded. In order: latency before anything, then the credentials check,
    a 429 burst, and for ``/3/movie/{id}`` the stall, the always-failing and flaky ids, and the
    malformed and id-less bodies."""

    server: FaultyReplayServer

    def do_GET(self) -> None:
        self.arrived = time.monotonic()
        parts = urlsplit(self.path)
        public_query = {k: v for k, v in parse_qs(parts.query).items() if k not in CREDENTIAL_PARAMS}
        self.public_path = parts.path + (f"?{urlencode(public_query, doseq=True)}" if public_query else "")
        self.number = self.server.count_request()
        if self.server.faults.latency:
            time.sleep(self.server.faults.latency)
        super().do_GET()

    def answer(self, path: str, query: dict[str, list[str]]) -> None:
        faults = self.server.faults
        if faults.burst_429_after is not None and faults.burst_429_after < self.number <= faults.burst_429_after + faults.burst_429_length:
            self.send_json(429, RATE_LIMITED, {"Retry-After": str(faults.retry_after)})
            return
        super().answer(path, query)

    def movie(self, movie_id: int, append: frozenset[str]) -> None:
        faults = self.server.faults
        attempt = self.server.count_attempt(movie_id)
        if attempt <= faults.stall_ids.get(movie_id, 0):
            time.sleep(faults.stall_seconds)
        if movie_id in faults.failing_ids:
            self.send_json(503, SERVER_ERROR)
            return
        if faults.flaky(movie_id) and attempt <= faults.error_attempts:
            self.send_json((500, 502, 503, 504)[(attempt - 1) % 4], SERVER_ERROR)
            return
        body = self.server.snapshot.movie_body(movie_id, append)
        if body is not None and movie_id in faults.malformed_ids:
            self.send_body(200, body[: len(body) // 2])
        elif body is not None and movie_id in faults.idless_ids:
            record = json.loads(body)
            del record["id"]
            self.send_json(200, record)
        else:
            super().movie(movie_id, append)

    def send_body(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.server.record(self.arrived, self.public_path, status)
        super().send_body(status, body, headers)


class FaultyReplayServer(TMDBReplayServer):
    """:class:`~movie_assets.tmdb.replay_server.TMDBReplayServer` answering through
    :class:`FaultyHandler`; the same arguments plus ``faults``.

    Attributes:
        faults: the :class:`Faults` in force (default: none); may be replaced while serving.
        request_log: every request answered, as :class:`LoggedRequest`, in answer order.
    """

    handler_class = FaultyHandler

    def __init__(self, snapshot: Snapshot, *, faults: Faults | None = None, **server_options) -> None:
        super().__init__(snapshot, **server_options)
        self.faults = faults or Faults()
        self.request_log: list[LoggedRequest] = []
        self._requests = 0
        self._attempts: dict[int, int] = {}
        self._lock = threading.Lock()

    def count_request(self) -> int:
        """Count a request on arrival; returns its 1-based number, server-wide."""
        with self._lock:
            self._requests += 1
            return self._requests

    def count_attempt(self, movie_id: int) -> int:
        """Count a request for ``movie_id``; returns how many it has had, this one included."""
        with self._lock:
            self._attempts[movie_id] = self._attempts.get(movie_id, 0) + 1
            return self._attempts[movie_id]

    def record(self, arrived: float, path: str, status: int) -> None:
        """Append a request to ``request_log``."""
        with self._lock:
            self.request_log.append(LoggedRequest(arrived, path, status))


def main(argv: list[str] | None = None) -> None:
    """The product server's command line plus ``--latency``, ``--error-share`` and
    ``--request-log``."""
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added before every answer")
    parser.add_argument("--error-share", type=float, default=0.0, help="share of movie ids whose first request answers 5xx")
    parser.add_argument("--request-log", type=Path, help="on exit, write the request log here as JSON lines {at, path, status}")
    args = parser.parse_args(argv)
    if not (args.api_key or args.access_token):
        parser.error("give --api-key or --access-token: the key clients must send")
    server = FaultyReplayServer(
        Snapshot.load(args.snapshot, args.movies_file, args.baseline_file),
        api_key=args.api_key,
        access_token=args.access_token,
        host=args.host,
        port=args.port,
        faults=Faults(latency=args.latency, error_share=args.error_share),
    )
    try:
        serve_until_stopped(server)
    finally:
        if args.request_log is not None:
            with args.request_log.open("w", encoding="utf-8") as out:
                for entry in server.request_log:
                    out.write(json.dumps({"at": entry.at, "path": entry.path, "status": entry.status}) + "\n")


if __name__ == "__main__":
    main()
