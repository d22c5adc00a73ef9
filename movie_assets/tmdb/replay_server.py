"""A TMDB-compatible HTTP server that replays a snapshot of real API responses.

Serves a snapshot folder in the layout of ``../shared/data/tmdb``:

- ``movies.jsonl.gz`` (or another ``*.jsonl.gz`` chosen with ``movies_file``): one
  ``GET /3/movie/{id}`` response body per line.
- ``genres.json``: the ``GET /3/genre/movie/list`` body.
- ``credits.jsonl.gz`` (optional): one ``GET /3/movie/{id}/credits`` response body per
  line, ``{"id": movie_id, "cast": [...], "crew": [...]}``. A folder without it serves no
  credits; a movie without a line has unknown credits.

Endpoints (TMDB API v3 shapes):

- ``GET /3/movie/{id}``: the stored body byte for byte; unknown id → 404
  ``{"success": false, "status_code": 34, ...}``. With ``append_to_response`` naming
  ``credits`` (a comma-separated list, like TMDB), the body gains a last key ``credits``
  holding the movie's credits as TMDB appends them: the credits body without its ``id``
  (``{"cast": [...], "crew": [...]}``), bytes otherwise as stored. A movie without credits in
  the snapshot gets no ``credits`` key (unknown, not empty); other append values are ignored
  (the snapshot has nothing to append for them).
- ``GET /3/movie/{id}/credits``: the stored credits body byte for byte; a movie without
  credits in the snapshot → the same 404 as an unknown movie.
- ``GET /3/discover/movie``: ``sort_by=popularity.desc``, 20 results a page, ``page`` 1–500
  (others → 400 with ``status_code`` 22), ``total_pages`` and ``total_results``.
- ``GET /3/genre/movie/list``.
- ``GET /3/movie/changes``: ``start_date`` / ``end_date`` (YYYY-MM-DD, at most 14 days
  apart, like TMDB), 100 results a page. A replay holds one observation, so its change
  feed is the difference from a *baseline* observation (``baseline_file``): every id whose
  body differs from, or is missing in, the baseline. It is reported for whatever window is
  asked; without a baseline the feed is empty (a day with no changes).

Credentials are checked like TMDB: ``api_key`` query parameter or ``Authorization: Bearer``;
missing or wrong → 401 with ``status_code`` 7. It is what offline runs (``TMDB_SOURCE=snapshot``)
talk to, through the same HTTP client as the live API, over real HTTP on 127.0.0.1.

It answers correctly and nothing else. Tests and benchmarks that need a misbehaving API
(latency, 5xx, 429 bursts, stalls, malformed bodies) or the server's request log subclass
:class:`ReplayHandler` and :class:`TMDBReplayServer` on their side (``tests/support/tmdb_faults.py``).

Run it: ``python -m movie_assets.tmdb.replay_server --snapshot DIR --port N --api-key KEY``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from movie_assets.tmdb.client import MAX_PAGE

PAGE_SIZE = 20
CHANGES_PAGE_SIZE = 100
MAX_CHANGES_DAYS = 14

NOT_FOUND = {
    "success": False,
    "status_code": 34,
    "status_message": "The resource you requested could not be found.",
}
INVALID_KEY = {
    "success": False,
    "status_code": 7,
    "status_message": "Invalid API key: You must be granted a valid key.",
}
INVALID_PAGE = {
    "success": False,
    "status_code": 22,
    "status_message": "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
}

INVALID_DATE = {
    "success": False,
    "status_code": 47,
    "status_message": "The input is not valid: start_date and end_date must be YYYY-MM-DD, at most 14 days apart.",
}

_MOVIE_PATH = re.compile(r"^/3/movie/(\d+)$")
_CREDITS_PATH = re.compile(r"^/3/movie/(\d+)/credits$")


def _json_lines(path: Path, kind: str) -> Iterator[tuple[int, bytes, dict]]:
    """``(line number, stripped line bytes, parsed object)`` for each non-blank line of the
    gzipped JSON-lines file ``path`` whose object has an integer ``id``.

    Raises:
        ValueError: a line is not JSON or has no integer ``id`` (names the file, line and ``kind``).
    """
    with gzip.open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
                int(record["id"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}: line {number} is not a {kind} with an id: {exc}") from exc
            yield number, line, record


@dataclass
class Snapshot:
    """An in-memory TMDB snapshot.

    Attributes:
        movies: movie id → the raw response body (UTF-8 JSON bytes, as stored).
        popularity: movie id → popularity (TMDB's unitless score), for discover ordering.
        adult: ids of adult films, left out of discover unless ``include_adult=true``.
        genres_body: the ``/genre/movie/list`` body (bytes).
        discover_order: movie ids by popularity, highest first (ties by id).
        changed_ids: the change feed (see :meth:`load`).
        credits: movie id → the raw ``/movie/{id}/credits`` body (UTF-8 JSON bytes, as stored).
        appended_credits: movie id → the value TMDB appends under ``credits`` for
            ``append_to_response=credits``: the credits body without its ``id``.
    """

    movies: dict[int, bytes]
    popularity: dict[int, float]
    adult: set[int]
    genres_body: bytes
    discover_order: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    credits: dict[int, bytes] = field(default_factory=dict)
    appended_credits: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        folder: Path,
        movies_file: str = "movies.jsonl.gz",
        baseline_file: str | None = None,
        credits_file: str = "credits.jsonl.gz",
    ) -> Snapshot:
        """Load ``folder/movies_file``, ``folder/genres.json`` and, if present,
        ``folder/credits_file`` (without it the snapshot has no credits).

        With ``baseline_file`` (an earlier observation in the same folder), ``changed_ids``
        holds, sorted, every id whose body differs from the baseline's or that the baseline
        lacks: the change feed.

        Raises:
            FileNotFoundError: the movies file or genres.json is missing.
            ValueError: a line is not a JSON object with an integer ``id``, or a credits line
                does not start with its ``id`` key (names file and line).
        """
        movies, popularity, adult = cls._read_movies(folder / movies_file)
        genres_body = (folder / "genres.json").read_bytes()
        order = sorted(movies, key=lambda movie_id: (-popularity[movie_id], movie_id))
        changed: list[int] = []
        if baseline_file is not None:
            baseline, _, _ = cls._read_movies(folder / baseline_file)
            changed = sorted(i for i, body in movies.items() if baseline.get(i) != body)
        credits_path = folder / credits_file
        credits, appended = cls._read_credits(credits_path) if credits_path.exists() else ({}, {})
        return cls(movies, popularity, adult, genres_body, order, changed, credits, appended)

    @staticmethod
    def _read_credits(path: Path) -> tuple[dict[int, bytes], dict[int, bytes]]:
        """movie id → credits line, and movie id → that line without its leading ``"id":N,``.

        The appended form is cut out of the stored bytes rather than re-serialized so that
        cast and crew stay byte for byte as stored; that needs ``id`` as the first key, the
        shape of the API's and the snapshot's credits bodies.
        """
        credits: dict[int, bytes] = {}
        appended: dict[int, bytes] = {}
        for number, line, record in _json_lines(path, "credits object"):
            movie_id = int(record["id"])
            prefix = b'{"id":%d,' % movie_id
            if not line.startswith(prefix):
                raise ValueError(f"{path}: line {number} does not start with {prefix.decode()}")
            credits[movie_id] = line
            appended[movie_id] = b"{" + line[len(prefix) :]
        return credits, appended

    def movie_body(self, movie_id: int, append: frozenset[str] = frozenset()) -> bytes | None:
        """The ``/movie/{movie_id}`` body with the ``append`` sub-requests it can serve
        (``credits``) added as last keys, as TMDB does; None for an unknown movie."""
        body = self.movies.get(movie_id)
        if body is None or "credits" not in append or movie_id not in self.appended_credits:
            return body
        return body[:-1] + b',"credits":' + self.appended_credits[movie_id] + b"}"

    @staticmethod
    def _read_movies(path: Path) -> tuple[dict[int, bytes], dict[int, float], set[int]]:
        movies: dict[int, bytes] = {}
        popularity: dict[int, float] = {}
        adult: set[int] = set()
        for _, line, record in _json_lines(path, "movie object"):
            movie_id = int(record["id"])
            movies[movie_id] = line
            popularity[movie_id] = float(record.get("popularity") or 0.0)
            if record.get("adult"):
                adult.add(movie_id)
        return movies, popularity, adult

    def changes_page(self, page: int) -> dict:
        """One ``/movie/changes`` page in TMDB's shape: ``results`` of ``{id, adult}``."""
        total_results = len(self.changed_ids)
        total_pages = max(1, math.ceil(total_results / CHANGES_PAGE_SIZE))
        chunk = self.changed_ids[(page - 1) * CHANGES_PAGE_SIZE : page * CHANGES_PAGE_SIZE]
        results = [{"id": movie_id, "adult": movie_id in self.adult} for movie_id in chunk]
        return {"results": results, "page": page, "total_pages": total_pages, "total_results": total_results}

    def discover_page(self, page: int, include_adult: bool) -> dict:
        """One ``/discover/movie`` page in TMDB's shape (results carry the list fields)."""
        ids = self.discover_order if include_adult else [i for i in self.discover_order if i not in self.adult]
        total_results = len(ids)
        total_pages = min(MAX_PAGE, max(1, math.ceil(total_results / PAGE_SIZE)))
        chunk = ids[(page - 1) * PAGE_SIZE : page * PAGE_SIZE] if page <= total_pages else []
        results = []
        for movie_id in chunk:
            record = json.loads(self.movies[movie_id])
            results.append(
                {
                    "adult": record.get("adult", False),
                    "backdrop_path": record.get("backdrop_path"),
                    "genre_ids": [g["id"] for g in record.get("genres") or []],
                    "id": movie_id,
                    "original_language": record.get("original_language"),
                    "original_title": record.get("original_title"),
                    "overview": record.get("overview"),
                    "popularity": record.get("popularity"),
                    "poster_path": record.get("poster_path"),
                    "release_date": record.get("release_date"),
                    "title": record.get("title"),
                    "video": record.get("video", False),
                    "vote_average": record.get("vote_average"),
                    "vote_count": record.get("vote_count"),
                }
            )
        return {"page": page, "results": results, "total_pages": total_pages, "total_results": total_results}


def _valid_window(query: dict[str, list[str]]) -> bool:
    try:
        start = date.fromisoformat(query.get("start_date", [""])[0])
        end = date.fromisoformat(query.get("end_date", [""])[0])
    except ValueError:
        return False
    return 0 <= (end - start).days <= MAX_CHANGES_DAYS


def append_values(query: dict[str, list[str]]) -> frozenset[str]:
    """The sub-requests ``append_to_response`` names (comma-separated, possibly repeated)."""
    return frozenset(value.strip() for values in query.get("append_to_response", []) for value in values.split(","))


class ReplayHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests from ``server.snapshot`` (see the module docstring).

    A request goes :meth:`do_GET` (credentials) → :meth:`answer` (routing) → :meth:`movie` for
    ``/3/movie/{id}``; every answer leaves through :meth:`send_body`. A subclass may override
    any of them to misbehave or to record (the tests' fault injection does).
    """

    server: TMDBReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # the default writes every request to stderr
        return

    def send_body(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with the JSON ``body`` (bytes) and extra ``headers``."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``payload`` serialized as JSON."""
        self.send_body(status, json.dumps(payload).encode(), headers)

    def authorized(self, query: dict[str, list[str]]) -> bool:
        """Whether the request carries the server's API key or bearer token."""
        key = query.get("api_key", [None])[0]
        header = self.headers.get("Authorization", "")
        bearer = header[7:] if header.startswith("Bearer ") else None
        return (key is not None and key == self.server.api_key) or (bearer is not None and bearer == self.server.access_token)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if not self.authorized(query):
            self.send_json(401, INVALID_KEY)
            return
        self.answer(parts.path, query)

    def answer(self, path: str, query: dict[str, list[str]]) -> None:
        """Answer an authorized request for ``path`` with the parsed ``query``."""
        snapshot = self.server.snapshot
        match = _MOVIE_PATH.match(path)
        if match:
            self.movie(int(match.group(1)), append_values(query))
            return
        match = _CREDITS_PATH.match(path)
        if match:
            credits = snapshot.credits.get(int(match.group(1)))
            if credits is None:
                self.send_json(404, NOT_FOUND)
            else:
                self.send_body(200, credits)
            return
        if path == "/3/discover/movie":
            raw_page = query.get("page", ["1"])[0]
            if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
                self.send_json(400, INVALID_PAGE)
                return
            include_adult = query.get("include_adult", ["false"])[0] == "true"
            self.send_json(200, snapshot.discover_page(int(raw_page), include_adult))
            return
        if path == "/3/movie/changes":
            raw_page = query.get("page", ["1"])[0]
            if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
                self.send_json(400, INVALID_PAGE)
                return
            if not _valid_window(query):
                self.send_json(422, INVALID_DATE)
                return
            self.send_json(200, snapshot.changes_page(int(raw_page)))
            return
        if path == "/3/genre/movie/list":
            self.send_body(200, snapshot.genres_body)
            return
        self.send_json(404, NOT_FOUND)

    def movie(self, movie_id: int, append: frozenset[str]) -> None:
        """Answer ``/3/movie/{movie_id}`` with the ``append_to_response`` values ``append``."""
        body = self.server.snapshot.movie_body(movie_id, append)
        if body is None:
            self.send_json(404, NOT_FOUND)
        else:
            self.send_body(200, body)


class TMDBReplayServer(ThreadingHTTPServer):
    """Threaded HTTP server answering TMDB v3 requests from a :class:`Snapshot`.

    Use as a context manager: ``with TMDBReplayServer(snapshot, api_key="k") as server:``
    starts serving in a daemon thread on ``127.0.0.1`` (port 0 picks a free port) and
    ``server.base_url`` is the ``.../3`` root to give the client.

    Raises:
        ValueError: neither ``api_key`` nor ``access_token`` is given.
        OSError: the port is taken.
    """

    #: The request handler; a subclass may answer through a subclass of :class:`ReplayHandler`.
    handler_class: type[ReplayHandler] = ReplayHandler
    daemon_threads = True
    # The client's threads (TMDB_MAX_CONCURRENCY) connect at once; the default backlog of 5 can drop some.
    request_queue_size = 128

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not (api_key or access_token):
            raise ValueError("the replay server needs an api_key or an access_token to check requests against")
        super().__init__((host, port), self.handler_class)
        self.snapshot = snapshot
        self.api_key = api_key
        self.access_token = access_token
        self._thread: threading.Thread | None = None

    def handle_error(self, request, client_address) -> None:
        # A client that gave up waiting (its read timeout) closes its socket: nothing to report.
        return

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/3"

    def start(self) -> TMDBReplayServer:
        self._thread = threading.Thread(target=self.serve_forever, name="tmdb-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TMDBReplayServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The command line of :func:`main`: snapshot, baseline, host, port and credentials."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--snapshot",
        type=Path,
        required=True,
        help="folder with movies.jsonl.gz, genres.json and optionally credits.jsonl.gz",
    )
    parser.add_argument("--movies-file", default="movies.jsonl.gz", help="snapshot file inside --snapshot")
    parser.add_argument("--baseline-file", help="earlier snapshot file: /movie/changes reports the differences from it")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", help="v3 key clients must send (this or --access-token)")
    parser.add_argument("--access-token", help="v4 bearer token clients may send instead")
    return parser


def serve_until_stopped(server: TMDBReplayServer) -> None:
    """Print where ``server`` serves, then serve until Ctrl-C or SIGTERM; the socket is closed
    afterwards."""
    snapshot = server.snapshot
    print(f"serving {len(snapshot.movies)} movies ({len(snapshot.credits)} with credits) at {server.base_url}", flush=True)
    # SIGTERM stops it like Ctrl-C (a background process may have SIGINT ignored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    if not (args.api_key or args.access_token):
        parser.error("give --api-key or --access-token: the key clients must send")
    snapshot = Snapshot.load(args.snapshot, args.movies_file, args.baseline_file)
    serve_until_stopped(TMDBReplayServer(snapshot, api_key=args.api_key, access_token=args.access_token, host=args.host, port=args.port))


if __name__ == "__main__":
    main()
