"""The local TMDB server's credits: ``/movie/{id}/credits`` and ``append_to_response=credits``
answer like TMDB, over real HTTP on 127.0.0.1, from ``tmdb/credits.jsonl.gz`` read here on
purpose (expected bytes come from the gz file, not from the server's own snapshot)."""

import gzip
import json
from pathlib import Path

import pytest
import requests

from movie_assets.tmdb.client import TMDBClient
from movie_assets.tmdb.replay_server import Snapshot, TMDBReplayServer

KEY = "local-key"
TITANIC = 597  # has a credits line
TWO_DIRECTORS = 604  # The Matrix Reloaded: credits with two directors
NO_CREDITS = 550  # Fight Club: in movies.jsonl.gz, no credits line
UNKNOWN = 9000013  # in no file
TMDB_NOT_FOUND = {
    "success": False,
    "status_code": 34,
    "status_message": "The resource you requested could not be found.",
}


def gz_lines(path: Path) -> dict[int, bytes]:
    """movie id -> the file's line for it, as stored (no newline)."""
    with gzip.open(path, "rb") as handle:
        return {json.loads(line)["id"]: line.rstrip(b"\n") for line in handle if line.strip()}


@pytest.fixture(scope="module")
def credit_lines(sample_data: Path) -> dict[int, bytes]:
    return gz_lines(sample_data / "tmdb" / "credits.jsonl.gz")


@pytest.fixture(scope="module")
def movie_lines(sample_data: Path) -> dict[int, bytes]:
    return gz_lines(sample_data / "tmdb" / "movies.jsonl.gz")


@pytest.fixture(scope="module")
def server(sample_data: Path):
    with TMDBReplayServer(Snapshot.load(sample_data / "tmdb"), api_key=KEY) as running:
        yield running


def get(server: TMDBReplayServer, path: str, **params) -> requests.Response:
    return requests.get(server.base_url + path, params={"api_key": KEY, **params}, timeout=5)


def appended_credits(content: bytes) -> bytes:
    """The value of the last key, ``credits``, of a details body, as bytes."""
    marker = b',"credits":'
    assert content.count(marker) == 1 and content.endswith(b"}")
    return content[content.index(marker) + len(marker) : -1]


def test_the_fixtures_movies_are_as_assumed(credit_lines, movie_lines):
    assert TITANIC in credit_lines and TWO_DIRECTORS in credit_lines
    assert NO_CREDITS in movie_lines and NO_CREDITS not in credit_lines
    assert UNKNOWN not in movie_lines


def test_credits_route_serves_the_line_byte_for_byte(server, credit_lines):
    response = get(server, f"/movie/{TWO_DIRECTORS}/credits")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.content == credit_lines[TWO_DIRECTORS]
    body = response.json()
    assert list(body) == ["id", "cast", "crew"] and body["id"] == TWO_DIRECTORS
    assert [person["name"] for person in body["crew"] if person["job"] == "Director"] == [
        "Lilly Wachowski",
        "Lana Wachowski",
    ]


@pytest.mark.parametrize("movie_id", [NO_CREDITS, UNKNOWN])
def test_credits_route_is_tmdb_404_without_credits(server, movie_id):
    response = get(server, f"/movie/{movie_id}/credits")
    assert response.status_code == 404
    assert response.json() == TMDB_NOT_FOUND


def test_credits_route_checks_credentials(server):
    response = requests.get(f"{server.base_url}/movie/{TITANIC}/credits", params={"api_key": "wrong"}, timeout=5)
    assert response.status_code == 401 and response.json()["status_code"] == 7


def test_append_credits_adds_tmdbs_credits_key(server, credit_lines, movie_lines):
    response = get(server, f"/movie/{TITANIC}", append_to_response="credits")
    assert response.status_code == 200
    body = response.json()
    stored = json.loads(movie_lines[TITANIC])
    # The details keys unchanged and in order, then `credits` last, as TMDB appends it.
    assert list(body) == [*stored, "credits"]
    assert {key: value for key, value in body.items() if key != "credits"} == stored
    # TMDB appends the credits body without its `id` (that is the movie's own id above).
    line = credit_lines[TITANIC]
    expected = {key: value for key, value in json.loads(line).items() if key != "id"}
    assert body["credits"] == expected
    # Byte for byte: the details line, then the credits line less its leading "id" member.
    credits_bytes = appended_credits(response.content)
    assert credits_bytes == line.replace(b'"id":%d,' % TITANIC, b"", 1)
    assert response.content == movie_lines[TITANIC][:-1] + b',"credits":' + credits_bytes + b"}"


def test_append_credits_among_other_values(server, credit_lines):
    response = get(server, f"/movie/{TITANIC}", append_to_response="videos,credits")
    assert response.json()["credits"]["cast"] == json.loads(credit_lines[TITANIC])["cast"]


def test_no_credits_key_without_credits_or_without_asking(server, movie_lines):
    unknown_credits = get(server, f"/movie/{NO_CREDITS}", append_to_response="credits")
    assert unknown_credits.status_code == 200
    # Unknown, not empty: the key is left out, the body is the stored one.
    assert unknown_credits.content == movie_lines[NO_CREDITS]
    not_asked = get(server, f"/movie/{TITANIC}")
    assert not_asked.content == movie_lines[TITANIC] and "credits" not in not_asked.json()


def test_client_receives_the_credits(server, credit_lines):
    """The product's client asks the way the daily fetch does (``append_to_response=credits``)."""
    client = TMDBClient(server.base_url, api_key=KEY, rate_limit=100.0)
    try:
        result = client.fetch_movie(TWO_DIRECTORS, "credits")
    finally:
        client.close()
    assert result.ok and result.request_path == f"/3/movie/{TWO_DIRECTORS}?append_to_response=credits"
    assert result.json()["credits"]["crew"] == json.loads(credit_lines[TWO_DIRECTORS])["crew"]


def test_snapshot_without_credits_file_serves_no_credits(sample_data: Path, tmp_path: Path, movie_lines):
    for name in ("movies.jsonl.gz", "genres.json"):
        (tmp_path / name).symlink_to(sample_data / "tmdb" / name)
    snapshot = Snapshot.load(tmp_path)
    assert snapshot.credits == {}
    with TMDBReplayServer(snapshot, api_key=KEY) as bare:
        assert get(bare, f"/movie/{TITANIC}/credits").status_code == 404
        details = get(bare, f"/movie/{TITANIC}", append_to_response="credits")
        assert details.content == movie_lines[TITANIC]


def test_credits_line_without_leading_id_is_refused(sample_data: Path, tmp_path: Path):
    for name in ("movies.jsonl.gz", "genres.json"):
        (tmp_path / name).symlink_to(sample_data / "tmdb" / name)
    with gzip.open(tmp_path / "credits.jsonl.gz", "wb") as handle:
        handle.write(b'{"id":597,"cast":[],"crew":[]}\n{"cast":[],"crew":[],"id":604}\n')
    with pytest.raises(ValueError, match=r"line 2 does not start with \{\"id\":604,"):
        Snapshot.load(tmp_path)
