"""The TMDB client against the local server with faults: rate limit, retries, terminal errors."""

import bisect
import socket
import threading
import time
from pathlib import Path

import pytest
from urllib3.util.retry import RequestHistory

from movie_assets.tmdb.client import FullJitterRetry, SlidingWindowRateLimiter, TMDBAuthError, TMDBClient
from movie_assets.tmdb.replay_server import Faults, Snapshot, TMDBReplayServer

KEY = "client-test-key"
AVATAR, TITANIC, JURASSIC, SPECTRE = 19995, 597, 135397, 206647


@pytest.fixture(scope="module")
def snapshot(sample_data: Path) -> Snapshot:
    return Snapshot.load(sample_data / "tmdb")


def serve(snapshot: Snapshot, **faults) -> TMDBReplayServer:
    return TMDBReplayServer(snapshot, api_key=KEY, faults=Faults(**faults))


def client_for(server: TMDBReplayServer, **options) -> TMDBClient:
    settings = dict(api_key=KEY, rate_limit=1000, max_concurrency=8, timeout=2.0, max_retries=3, backoff_factor=0.05)
    return TMDBClient(server.base_url, **{**settings, **options})


def max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def test_limiter_never_exceeds_the_rate_in_any_second():
    limiter = SlidingWindowRateLimiter(20)
    granted: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(8):
            limiter.acquire()
            with lock:
                granted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 64
    assert max_in_any_second(granted) == 20
    # 64 grants at 20 per (1 s + margin): the fourth window opens after three full ones.
    assert max(granted) - min(granted) >= 3.0


def test_rate_limit_holds_on_the_server_side_retries_included(snapshot):
    movie_ids = snapshot.discover_order[:45]
    with serve(snapshot, error_share=0.3, error_attempts=1) as server:
        client = client_for(server, rate_limit=25)
        results = list(client.fetch_movies(movie_ids))
        client.close()
    assert all(r.ok for r in results) and len(results) == 45
    assert client.retries > 5
    arrivals = [entry.at for entry in server.request_log]
    assert len(arrivals) == 45 + client.retries == client.requests_sent
    assert max_in_any_second(arrivals) <= 25


def test_full_jitter_backoff_stays_under_the_exponential_cap():
    history = tuple(RequestHistory("GET", "/3/movie/1", None, 503, None) for _ in range(3))
    retry = FullJitterRetry(total=5, backoff_factor=0.5, backoff_max=30, history=history)
    waits = [retry.get_backoff_time() for _ in range(200)]
    assert all(0.0 <= wait <= 2.0 for wait in waits)
    assert min(waits) < 0.5 and max(waits) > 1.5
    assert FullJitterRetry(total=5, backoff_factor=0.5).get_backoff_time() == 0.0


def test_404_is_terminal_and_not_retried(snapshot):
    with serve(snapshot) as server:
        client = client_for(server)
        result = client.fetch_movie(9000013)
    assert (result.reason, result.http_status, result.attempts) == ("not-found", 404, 1)
    assert [entry.path for entry in server.request_log] == ["/3/movie/9000013"]


def test_5xx_every_time_exhausts_the_retries(snapshot):
    with serve(snapshot, failing_ids=frozenset({AVATAR})) as server:
        result = client_for(server, max_retries=2).fetch_movie(AVATAR)
    assert (result.reason, result.http_status, result.attempts) == ("retries-exhausted", 503, 3)
    assert len(server.request_log) == 3


def test_429_burst_honours_retry_after_for_every_thread(snapshot):
    with serve(snapshot, burst_429_after=0, burst_429_length=1, retry_after=1) as server:
        client = client_for(server, max_concurrency=2)
        results = list(client.fetch_movies(snapshot.discover_order[:6]))
    assert all(r.ok for r in results) and client.retries == 1
    log = server.request_log
    first_429 = min(entry.at for entry in log if entry.status == 429)
    # Retry-After pauses the whole client, not just the thread that got the 429: only the
    # one request already in flight on the other thread arrives within the second.
    later = sorted(entry.at - first_429 for entry in log if entry.at > first_429)
    assert len(later) == 6 and sum(1 for t in later if t < 0.95) <= 1


def test_stall_past_the_timeout_is_retried(snapshot):
    with serve(snapshot, stall_ids={AVATAR: 1, TITANIC: 99}, stall_seconds=1.5) as server:
        client = client_for(server, timeout=0.3, max_retries=1)
        avatar = client.fetch_movie(AVATAR)
        titanic = client.fetch_movie(TITANIC)
    assert avatar.ok and avatar.attempts == 2
    assert (titanic.reason, titanic.http_status, titanic.attempts) == ("timeout", None, 2)
    assert KEY not in titanic.error


@pytest.mark.parametrize("fault", ["malformed_ids", "idless_ids"])
def test_bad_payload_is_a_dead_letter(snapshot, fault):
    with serve(snapshot, **{fault: frozenset({AVATAR})}) as server:
        result = client_for(server).fetch_movie(AVATAR)
    assert (result.reason, result.http_status, result.attempts) == ("bad-payload", 200, 1)


def test_connection_refused_is_a_connection_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = TMDBClient(f"http://127.0.0.1:{port}/3", api_key=KEY, max_retries=1, backoff_factor=0.01, rate_limit=1000)
    result = client.fetch_movie(AVATAR)
    assert result.reason == "connection-error" and result.http_status is None
    assert KEY not in result.error


def test_401_stops_everything_and_names_no_credential(snapshot):
    wrong = "wrong-key-0123456789"
    with serve(snapshot) as server:
        client = client_for(server, api_key=wrong, max_concurrency=2)
        with pytest.raises(TMDBAuthError) as raised:
            list(client.fetch_movies(snapshot.discover_order[:200]))
    assert "rejected the configured credentials" in str(raised.value)
    assert wrong not in str(raised.value) and KEY not in str(raised.value)
    assert len(server.request_log) <= 8
