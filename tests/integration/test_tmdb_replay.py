"""The local TMDB server answers like TMDB, over real HTTP on 127.0.0.1."""

import json
from pathlib import Path

import pytest
import requests

from movie_assets.tmdb.replay_server import Snapshot, TMDBReplayServer
from support.tmdb_faults import Faults, FaultyReplayServer


@pytest.fixture(scope="module")
def server(sample_data: Path):
    with TMDBReplayServer(Snapshot.load(sample_data / "tmdb"), api_key="local-key", access_token="tok") as running:
        yield running


def get(server, path, **params):
    return requests.get(server.base_url + path, params=params, timeout=5)


def test_movie_body_is_served_byte_for_byte(server, sample_data: Path):
    response = get(server, "/movie/19995", api_key="local-key")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Avatar" and body["release_date"] == "2009-12-10"
    assert response.content == server.snapshot.movies[19995]


def test_unknown_movie_is_tmdb_404(server):
    response = get(server, "/movie/9000013", api_key="local-key")
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "status_code": 34,
        "status_message": "The resource you requested could not be found.",
    }


@pytest.mark.parametrize("params,headers", [({}, {}), ({"api_key": "wrong"}, {}), ({}, {"Authorization": "Bearer nope"})])
def test_missing_or_wrong_credentials_are_401(server, params, headers):
    response = requests.get(server.base_url + "/movie/19995", params=params, headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["status_code"] == 7


def test_bearer_token_is_accepted(server):
    response = requests.get(server.base_url + "/genre/movie/list", headers={"Authorization": "Bearer tok"}, timeout=5)
    assert response.status_code == 200
    assert {"id": 28, "name": "Action"} in response.json()["genres"]


def test_discover_pages_by_popularity(server):
    first = get(server, "/discover/movie", api_key="local-key", sort_by="popularity.desc", page=1).json()
    second = get(server, "/discover/movie", api_key="local-key", sort_by="popularity.desc", page=2).json()
    assert len(first["results"]) == 20 and first["page"] == 1
    assert first["total_pages"] == 348 and first["total_results"] == 6957
    popularity = [m["popularity"] for m in first["results"] + second["results"]]
    assert popularity == sorted(popularity, reverse=True)
    assert {m["id"] for m in first["results"]}.isdisjoint({m["id"] for m in second["results"]})


@pytest.mark.parametrize("page", ["0", "501", "x"])
def test_discover_rejects_pages_outside_1_to_500(server, page):
    response = get(server, "/discover/movie", api_key="local-key", page=page)
    assert response.status_code == 400
    assert json.loads(response.text)["status_code"] == 22


def test_change_feed_is_the_difference_from_the_baseline(sample_data: Path):
    earlier = Snapshot.load(sample_data / "tmdb")
    later = Snapshot.load(sample_data / "tmdb", "movies_2017-07.jsonl.gz", baseline_file="movies.jsonl.gz")
    only_later = set(later.movies) - set(earlier.movies)
    differing = {i for i in set(later.movies) & set(earlier.movies) if later.movies[i] != earlier.movies[i]}
    assert set(later.changed_ids) == only_later | differing
    assert differing and len(later.changed_ids) <= len(later.movies) == 3086
    with TMDBReplayServer(later, api_key="k") as server:
        window = {"api_key": "k", "start_date": "2026-11-20", "end_date": "2026-11-20"}
        first = get(server, "/movie/changes", page=1, **window).json()
        last = get(server, "/movie/changes", page=first["total_pages"], **window).json()
        too_long = get(server, "/movie/changes", api_key="k", start_date="2026-11-01", end_date="2026-11-20")
    assert first["total_results"] == len(later.changed_ids) and len(first["results"]) == 100
    assert first["total_pages"] == -(-len(later.changed_ids) // 100)
    assert [r["id"] for r in first["results"]] == later.changed_ids[:100]
    assert last["results"] and last["results"][-1]["id"] == later.changed_ids[-1]
    assert too_long.status_code == 422


def test_change_feed_without_baseline_is_empty(server):
    body = get(server, "/movie/changes", api_key="local-key", start_date="2026-11-20", end_date="2026-11-20").json()
    assert body == {"results": [], "page": 1, "total_pages": 1, "total_results": 0}


def test_faults_and_the_request_log(sample_data: Path):
    faults = Faults(
        latency=0.05,
        burst_429_after=1,
        burst_429_length=1,
        retry_after=2,
        malformed_ids=frozenset({19995}),
        idless_ids=frozenset({597}),
        failing_ids=frozenset({135397}),
    )
    with FaultyReplayServer(Snapshot.load(sample_data / "tmdb"), api_key="secret-k", faults=faults) as server:
        first = get(server, "/movie/19995", api_key="secret-k")
        limited = get(server, "/movie/19995", api_key="secret-k")
        idless = get(server, "/movie/597", api_key="secret-k")
        failing = get(server, "/movie/135397", api_key="secret-k")
        log = list(server.request_log)
    assert first.status_code == 200 and first.content == server.snapshot.movies[19995][: len(first.content)]
    with pytest.raises(ValueError):
        first.json()
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert idless.status_code == 200 and "id" not in idless.json() and idless.json()["title"] == "Titanic"
    assert failing.status_code == 503
    assert [(e.path, e.status) for e in log] == [("/3/movie/19995", 200), ("/3/movie/19995", 429), ("/3/movie/597", 200), ("/3/movie/135397", 503)]
    assert all(b.at - a.at >= 0.05 for a, b in zip(log, log[1:], strict=False))
