"""A TMDB-compatible HTTP server that replays a snapshot of real API responses.

Serves a snapshot folder in the layout of ``../shared/data/tmdb``:

- ``movies.jsonl.gz`` (or another ``*.jsonl.gz`` chosen with ``movies_file``): one
  ``GET /3/movie/{id}`` response body per line.
- ``genres.json``: the ``GET /3/genre/movie/list`` body.

Endpoints (TMDB API v3 shapes):

- ``GET /3/movie/{id}``: the stored body byte for byte; unknown id → 404
  ``{"success": false, "status_code": 34, ...}``.
- ``GET /3/discover/movie``: ``sort_by=popularity.desc``, 20 results a page, ``page`` 1–500
  (others → 400 with ``status_code`` 22), ``total_pages`` and ``total_results``.
- ``GET /3/genre/movie/list``.

Credentials are checked like TMDB: ``api_key`` query parameter or ``Authorization: Bearer``;
missing or wrong → 401 with ``status_code`` 7. It is what offline runs and tests talk to,
over real HTTP on 127.0.0.1.

Run it: ``python -m movie_assets.tmdb_replay --snapshot DIR --port N --api-key KEY``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 20
MAX_PAGE = 500

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

_MOVIE_PATH = re.compile(r"^/3/movie/(\d+)$")


@dataclass
class Snapshot:
    """An in-memory TMDB snapshot.

    Attributes:
        movies: movie id → the raw response body (UTF-8 JSON bytes, as stored).
        popularity: movie id → popularity (TMDB's unitless score), for discover ordering.
        adult: ids of adult films, left out of discover unless ``include_adult=true``.
        genres_body: the ``/genre/movie/list`` body (bytes).
    """

    movies: dict[int, bytes]
    popularity: dict[int, float]
    adult: set[int]
    genres_body: bytes
    discover_order: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path, movies_file: str = "movies.jsonl.gz") -> "Snapshot":
        """Load ``folder/movies_file`` and ``folder/genres.json``.

        Raises:
            FileNotFoundError: either file is missing.
            ValueError: a line is not a JSON object with an integer ``id`` (names file and line).
        """
        movies: dict[int, bytes] = {}
        popularity: dict[int, float] = {}
        adult: set[int] = set()
        path = folder / movies_file
        with gzip.open(path, "rb") as lines:
            for number, line in enumerate(lines, start=1):
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                    movie_id = int(record["id"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{path}: line {number} is not a movie object with an id: {exc}") from exc
                movies[movie_id] = line
                popularity[movie_id] = float(record.get("popularity") or 0.0)
                if record.get("adult"):
                    adult.add(movie_id)
        genres_body = (folder / "genres.json").read_bytes()
        order = sorted(movies, key=lambda movie_id: (-popularity[movie_id], movie_id))
        return cls(movies, popularity, adult, genres_body, order)

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


class _Handler(BaseHTTPRequestHandler):
    server: "TMDBReplayServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # the default writes every request to stderr
        return

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload).encode())

    def _authorized(self, query: dict[str, list[str]]) -> bool:
        key = query.get("api_key", [None])[0]
        header = self.headers.get("Authorization", "")
        bearer = header[7:] if header.startswith("Bearer ") else None
        return (key is not None and key == self.server.api_key) or (
            bearer is not None and bearer == self.server.access_token
        )

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if not self._authorized(query):
            self._send_json(401, INVALID_KEY)
            return
        snapshot = self.server.snapshot
        match = _MOVIE_PATH.match(parts.path)
        if match:
            body = snapshot.movies.get(int(match.group(1)))
            if body is None:
                self._send_json(404, NOT_FOUND)
            else:
                self._send(200, body)
            return
        if parts.path == "/3/discover/movie":
            raw_page = query.get("page", ["1"])[0]
            if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
                self._send_json(400, INVALID_PAGE)
                return
            include_adult = query.get("include_adult", ["false"])[0] == "true"
            self._send_json(200, snapshot.discover_page(int(raw_page), include_adult))
            return
        if parts.path == "/3/genre/movie/list":
            self._send(200, snapshot.genres_body)
            return
        self._send_json(404, NOT_FOUND)


class TMDBReplayServer(ThreadingHTTPServer):
    """Threaded HTTP server answering TMDB v3 requests from a :class:`Snapshot`.

    Use as a context manager: ``with TMDBReplayServer(snapshot, api_key="k") as server:``
    starts serving in a daemon thread on ``127.0.0.1`` (port 0 picks a free port) and
    ``server.base_url`` is the ``.../3`` root to give the client.
    """

    daemon_threads = True

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
        super().__init__((host, port), _Handler)
        self.snapshot = snapshot
        self.api_key = api_key
        self.access_token = access_token
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/3"

    def start(self) -> "TMDBReplayServer":
        self._thread = threading.Thread(target=self.serve_forever, name="tmdb-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "TMDBReplayServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True, help="folder with movies.jsonl.gz and genres.json")
    parser.add_argument("--movies-file", default="movies.jsonl.gz", help="snapshot file inside --snapshot")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", help="v3 key clients must send (default: $TMDB_API_KEY)")
    parser.add_argument("--access-token", help="v4 bearer token clients may send instead")
    args = parser.parse_args(argv)
    api_key = args.api_key or os.environ.get("TMDB_API_KEY")
    snapshot = Snapshot.load(args.snapshot, args.movies_file)
    server = TMDBReplayServer(snapshot, api_key=api_key, access_token=args.access_token, host=args.host, port=args.port)
    print(f"serving {len(snapshot.movies)} movies at {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
