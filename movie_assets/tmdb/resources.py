"""The ``tmdb`` Dagster resource: the live TMDB API or the bundled snapshot server, one
interface (:meth:`TMDBResource.get_client`) for both.

Which one a deployment uses is its explicit choice (``TMDB_SOURCE``, see
:func:`movie_assets.definitions.build_resources`), never a fallback on a missing secret.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import ClassVar

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from movie_assets.settings import Settings, TMDBSource, load_settings_or_explain
from movie_assets.tmdb.client import TMDBClient
from movie_assets.tmdb.replay_server import Snapshot, TMDBReplayServer


class TMDBResource(ConfigurableResource):
    """TMDB API v3 (live, ``TMDB_SOURCE=live``).

    The credentials are read from :class:`~movie_assets.settings.Settings` (environment or
    ``.env``) when a client is made, so they never appear in the resource's configuration,
    which the Dagster UI shows.

    Attributes:
        base_url: API root (``TMDB_BASE_URL``).
        rate_limit: requests/second across all threads (``TMDB_RATE_LIMIT``).
        max_concurrency: worker threads (``TMDB_MAX_CONCURRENCY``).
        timeout: seconds per connect/read (``TMDB_TIMEOUT``).
        max_retries: retries per request (``TMDB_MAX_RETRIES``).
        backoff_factor: seconds; the n-th retry waits uniform(0, backoff_factor * 2**(n-1)).
    """

    source: ClassVar[TMDBSource] = "live"

    base_url: str = "https://api.themoviedb.org/3"
    rate_limit: float = 40.0
    max_concurrency: int = 8
    timeout: float = 10.0
    max_retries: int = 5
    backoff_factor: float = 0.5

    def _endpoint(self) -> tuple[str, str | None, str | None]:
        settings = load_settings_or_explain()
        key, token = settings.tmdb_api_key, settings.tmdb_read_access_token
        return (
            self.base_url,
            key.get_secret_value() if key else None,
            token.get_secret_value() if token else None,
        )

    def get_client(self) -> TMDBClient:
        """A new :class:`TMDBClient`; the caller closes it.

        Raises:
            movie_assets.settings.InvalidSettings: (live) the configuration no longer validates,
                e.g. the credentials were removed from the environment.
        """
        base_url, api_key, token = self._endpoint()
        return TMDBClient(
            base_url,
            api_key=api_key,
            read_access_token=token,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_concurrency=self.max_concurrency,
            rate_limit=self.rate_limit,
            backoff_factor=self.backoff_factor,
        )


class SnapshotTMDBResource(TMDBResource):
    """TMDB served from a local snapshot over real HTTP on 127.0.0.1 (``TMDB_SOURCE=snapshot``).

    For the length of each run it starts :class:`~movie_assets.tmdb.replay_server.TMDBReplayServer`
    over ``snapshot_dir`` (layout of ``../shared/data/tmdb``) with a random local key, and
    clients from :meth:`get_client` talk to it exactly as they would to TMDB.

    Attributes:
        snapshot_dir: folder holding ``genres.json`` and the movies file.
        movies_file: which ``*.jsonl.gz`` in it to serve (one observation of the catalogue).
        baseline_file: an earlier observation in the same folder; ``/movie/changes`` then
            reports the ids that differ from it. None: the change feed is empty.
    """

    source: ClassVar[TMDBSource] = "snapshot"

    snapshot_dir: str
    movies_file: str = "movies.jsonl.gz"
    baseline_file: str | None = None
    _server: TMDBReplayServer | None = PrivateAttr(default=None)
    _local_key: str = PrivateAttr(default_factory=lambda: secrets.token_hex(16))

    def setup_for_execution(self, context: InitResourceContext) -> None:
        snapshot = Snapshot.load(Path(self.snapshot_dir), self.movies_file, self.baseline_file)
        self._server = TMDBReplayServer(snapshot, api_key=self._local_key).start()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _endpoint(self) -> tuple[str, str | None, str | None]:
        if self._server is None:
            raise RuntimeError("SnapshotTMDBResource is used outside a run: its server is not started")
        return self._server.base_url, self._local_key, None


def build_tmdb_resource(settings: Settings) -> TMDBResource:
    """The ``tmdb`` resource for ``settings.tmdb_source``: the snapshot server over
    ``$MOVIES_INPUT_DIR/tmdb``, or the live API at ``TMDB_BASE_URL``."""
    tuning = dict(
        rate_limit=settings.tmdb_rate_limit,
        max_concurrency=settings.tmdb_max_concurrency,
        timeout=settings.tmdb_timeout,
        max_retries=settings.tmdb_max_retries,
    )
    if settings.tmdb_source == "live":
        return TMDBResource(base_url=settings.tmdb_base_url, **tuning)
    return SnapshotTMDBResource(snapshot_dir=str(settings.tmdb_snapshot_dir), **tuning)
