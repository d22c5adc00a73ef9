"""The synthetic catalogue behind bench/transform.py: seeded, TMDB-shaped, daily history consistent."""

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import duckdb
import pytest

from movie_assets.settings import REPO_ROOT


@pytest.fixture(scope="module")
def generate_module():
    spec = importlib.util.spec_from_file_location("bench_generate", REPO_ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def make(module, out: Path, sample_data: Path, seed: int = 7) -> dict:
    return module.generate(out, movies=400, days=3, seed=seed, sample_dir=sample_data / "tmdb", jsonl=True)


@pytest.fixture(scope="module")
def catalogue(generate_module, tmp_path_factory: pytest.TempPathFactory, sample_data: Path) -> Path:
    out = tmp_path_factory.mktemp("catalogue")
    info = make(generate_module, out, sample_data)
    assert (info["details_rows"], info["daily_rows"]) == (400, 800)
    return out


def test_same_seed_same_files_other_seed_other_files(generate_module, catalogue: Path, tmp_path: Path, sample_data: Path):
    make(generate_module, tmp_path / "again", sample_data)
    make(generate_module, tmp_path / "other", sample_data, seed=8)
    with duckdb.connect() as conn:

        def rows(folder: Path, name: str):
            return conn.execute(f"SELECT * FROM read_parquet('{folder / name}') ORDER BY ALL").fetchall()

        for name in ("details.parquet", "daily.parquet"):
            assert rows(catalogue, name) == rows(tmp_path / "again", name)
        assert rows(catalogue, "details.parquet") != rows(tmp_path / "other", "details.parquet")


def test_catalogue_is_tmdb_shaped(catalogue: Path, sample_data: Path):
    with gzip.open(sample_data / "tmdb" / "movies.jsonl.gz", "rt") as lines:
        sample_keys = list(json.loads(next(lines)))
    with gzip.open(catalogue / "movies.jsonl.gz", "rt") as lines:
        bodies = [json.loads(line) for line in lines]
    assert len({body["id"] for body in bodies}) == 400
    assert all(list(body) == sample_keys for body in bodies)
    known_genres = {g["id"] for g in json.loads((sample_data / "tmdb" / "genres.json").read_text())["genres"]}
    assert {g["id"] for body in bodies for g in body["genres"]} <= known_genres
    # The sample has budget 0 ("unknown") on 37 % of records; 400 draws stay near that share.
    assert 0.25 < sum(body["budget"] == 0 for body in bodies) / 400 < 0.5


def test_history_walks_back_consistently(catalogue: Path):
    with duckdb.connect() as conn:
        conn.execute(f"CREATE VIEW daily AS SELECT * FROM read_parquet('{catalogue / 'daily.parquet'}')")
        conn.execute(
            f"CREATE VIEW newest AS SELECT movie_id, CAST(payload ->> '$.vote_count' AS BIGINT) AS vote_count "
            f"FROM read_parquet('{catalogue / 'details.parquet'}')"
        )
        days = conn.execute("SELECT DISTINCT partition_date::VARCHAR FROM daily ORDER BY 1").fetchall()
        assert days == [("2026-11-18",), ("2026-11-19",)]
        # Votes only accumulate: no older day has more votes than a newer one.
        growing = conn.execute(
            "SELECT count(*) FROM daily AS older JOIN daily AS newer USING (movie_id) "
            "WHERE newer.partition_date = older.partition_date + 1 AND newer.vote_count < older.vote_count"
        ).fetchone()[0]
        beyond_newest = conn.execute("SELECT count(*) FROM daily JOIN newest USING (movie_id) WHERE daily.vote_count > newest.vote_count").fetchone()[
            0
        ]
        out_of_range = conn.execute("SELECT count(*) FROM daily WHERE vote_average NOT BETWEEN 0 AND 10").fetchone()[0]
    assert (growing, beyond_newest, out_of_range) == (0, 0, 0)
