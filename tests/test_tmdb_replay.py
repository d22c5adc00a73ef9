"""The local TMDB server answers like TMDB, over real HTTP on 127.0.0.1."""

import json
from pathlib import Path

import pytest
import requests

from movie_assets.tmdb_replay import Snapshot, TMDBReplayServer


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
