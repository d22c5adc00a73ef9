"""Synthetic TMDB catalogue for the scale benchmarks: seeded, shaped like the real sample.

Every synthetic movie copies the *structure* of a randomly drawn real record of the sample
(``$MOVIES_INPUT_DIR/tmdb/movies.jsonl.gz``): its number of genres and the genres
themselves (so co-occurrence is real), its countries, spoken languages, original
language, status, whether budget / revenue / runtime / imdb_id / collection are known
(TMDB's ``0`` or ``null`` for unknown stays at the sample's share), and the length of its
title, tagline and overview. Numbers are the template's times log-normal noise
(budget, revenue, popularity, vote_count) or plus small noise (vote_average, runtime,
release date). Companies and collections are drawn Zipf-like from pools that grow with the
catalogue (Heaps' law fitted to the sample's 6,253 companies and 299 collections in 6,957
films), so a 1M catalogue has hundreds of thousands of companies rather than the sample's
few thousand. Text is random words from the sample's overview vocabulary, so the JSON is
as long (about 1.2 kB a movie) and as hard to compress as the real thing.

Output folder (``--out``), one catalogue:

- ``details.parquet``: ``movie_id`` BIGINT, ``payload`` VARCHAR: the full
  ``GET /3/movie/{id}`` body as of the newest day, keys in TMDB's order.
- ``daily.parquet``: ``partition_date`` DATE, ``movie_id`` BIGINT, ``popularity`` DOUBLE,
  ``vote_average`` DOUBLE (0-10), ``vote_count`` BIGINT: the fields that change from day
  to day, for the ``days - 1`` days before the newest (one row group a day). Popularity
  follows a log-normal random walk, vote_count only grows (Poisson arrivals in proportion
  to the existing count), vote_average drifts only on days with new votes.
- ``catalogue.json``: the parameters, the seed and the row counts.
- with ``--jsonl``: ``movies.jsonl.gz`` + ``genres.json``, a snapshot the local TMDB server
  (:mod:`movie_assets.tmdb.replay_server`) can serve (keep that to small catalogues).

``bench/transform.py`` turns this into ``bronze.tmdb_movies`` (see its docstring for why the
older days are stored slim). Run::

    .venv/bin/python bench/generate.py --movies 100000 --days 30 --out bench/results/data/100k
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "tmdb"
DEFAULT_END_DATE = "2026-11-20"
CHUNK = 50_000
# Heaps' law exponents for how the number of distinct companies / collections grows with
# the number of films (sub-linear: big studios recur, the long tail keeps growing).
COMPANY_GROWTH = 0.8
COLLECTION_GROWTH = 0.9

DETAILS_SCHEMA = pa.schema([("movie_id", pa.int64()), ("payload", pa.string())])
DAILY_SCHEMA = pa.schema(
    [
        ("partition_date", pa.date32()),
        ("movie_id", pa.int64()),
        ("popularity", pa.float64()),
        ("vote_average", pa.float64()),
        ("vote_count", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Sample:
    """The real records the generator copies its structure from."""

    records: list[dict]
    vocabulary: np.ndarray
    companies: list[tuple[int, str]]
    collections: list[dict]

    @classmethod
    def load(cls, folder: Path) -> Sample:
        """Read ``folder/movies.jsonl.gz``.

        Raises:
            FileNotFoundError: the sample file is missing (message names it).
        """
        path = folder / "movies.jsonl.gz"
        if not path.exists():
            raise FileNotFoundError(f"sample snapshot not found: {path} (set --sample)")
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        # Every occurrence, not the set: common words stay common and lengths stay realistic.
        words = [w for r in records for w in (r.get("overview") or "").split() if w.isalpha()]
        company_counts: dict[tuple[int, str], int] = {}
        for record in records:
            for company in record["production_companies"]:
                key = (company["id"], company["name"])
                company_counts[key] = company_counts.get(key, 0) + 1
        companies = sorted(company_counts, key=lambda key: (-company_counts[key], key[0]))
        collection_counts: dict[int, int] = {}
        collection_by_id: dict[int, dict] = {}
        for record in records:
            if record["belongs_to_collection"]:
                collection_by_id[record["belongs_to_collection"]["id"]] = record["belongs_to_collection"]
                collection_counts[record["belongs_to_collection"]["id"]] = collection_counts.get(record["belongs_to_collection"]["id"], 0) + 1
        collections = [collection_by_id[c] for c in sorted(collection_counts, key=lambda c: (-collection_counts[c], c))]
        return cls(records, np.array(words, dtype=object), companies, collections)


def _zipf_ranks(rng: np.random.Generator, pool: int, size: int, exponent: float = 1.0) -> np.ndarray:
    """``size`` ranks in ``[0, pool)`` with P(rank k) proportional to 1/(k+1)^exponent."""
    weights = 1.0 / np.arange(1, pool + 1) ** exponent
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1])


def _words(rng: np.random.Generator, vocabulary: np.ndarray, count: int, capitalize: bool = False) -> str:
    if count <= 0:
        return ""
    picked = vocabulary[rng.integers(0, len(vocabulary), count)]
    text = " ".join(picked)
    return text.title() if capitalize else text


class CatalogueGenerator:
    """Builds synthetic movies chunk by chunk from a :class:`Sample` and a seed.

    Args:
        sample: the real records to copy structure from.
        movies: catalogue size (number of distinct TMDB ids).
        seed: the same seed and size give byte-identical output.
        end_date: the newest partition date (``YYYY-MM-DD``); details are as of that day.
    """

    def __init__(self, sample: Sample, movies: int, seed: int, end_date: str) -> None:
        self.sample = sample
        self.movies = movies
        self.seed = seed
        self.end_date = date.fromisoformat(end_date)
        scale = max(1.0, movies / len(sample.records))
        self.company_pool = max(len(sample.companies), int(len(sample.companies) * scale**COMPANY_GROWTH))
        self.collection_pool = max(len(sample.collections), int(len(sample.collections) * scale**COLLECTION_GROWTH))
        rng = np.random.default_rng([seed, 0])
        # TMDB ids are sparse (the sample's run 5..459,488 for 6,957 films): spread ours too.
        self.ids = np.sort(rng.choice(np.arange(1, 2 * movies + 20), size=movies, replace=False)).astype(np.int64)

    def _company(self, rank: int) -> dict:
        if rank < len(self.sample.companies):
            company_id, name = self.sample.companies[rank]
        else:
            company_id, name = 200_000 + rank, f"Studio {rank:06d} Pictures"
        return {"id": int(company_id), "logo_path": None, "name": name, "origin_country": ""}

    def _collection(self, rank: int) -> dict:
        if rank < len(self.sample.collections):
            return self.sample.collections[rank]
        return {
            "id": 900_000 + rank,
            "name": f"Saga {rank:06d} Collection",
            "poster_path": f"/c{rank:06d}p.jpg",
            "backdrop_path": f"/c{rank:06d}b.jpg",
        }

    def details(self, start: int, stop: int, final: dict[str, np.ndarray]) -> list[str]:
        """Full detail bodies (JSON text) for movies ``start..stop-1`` as of the newest day.

        ``final`` holds that day's popularity, vote_average and vote_count for the chunk.
        """
        rng = np.random.default_rng([self.seed, 1, start])
        count = stop - start
        records = self.sample.records
        templates = rng.integers(0, len(records), count)
        money_noise = np.exp(rng.normal(0.0, 0.35, (count, 2)))
        runtime_noise = rng.integers(-8, 9, count)
        date_noise = rng.integers(-200, 201, count)
        company_ranks = _zipf_ranks(rng, self.company_pool, count * 16).reshape(count, 16)
        collection_ranks = _zipf_ranks(rng, self.collection_pool, count, 0.6)
        bodies = []
        for i in range(count):
            template = records[templates[i]]
            movie_id = int(self.ids[start + i])
            release = template["release_date"]
            if release:
                shifted = date.fromisoformat(release) + timedelta(days=int(date_noise[i]))
                release = min(shifted, self.end_date).isoformat()
            title = _words(rng, self.sample.vocabulary, max(1, len(template["title"].split())), capitalize=True)
            companies = [self._company(int(rank)) for rank in dict.fromkeys(company_ranks[i, : len(template["production_companies"])])]
            body = {
                "adult": template["adult"],
                "backdrop_path": None,
                "belongs_to_collection": self._collection(int(collection_ranks[i])) if template["belongs_to_collection"] else None,
                "budget": int(template["budget"] * money_noise[i, 0]) // 1000 * 1000,
                "genres": template["genres"],
                "homepage": f"http://www.movie{movie_id}.example.com/" if template["homepage"] else "",
                "id": movie_id,
                "imdb_id": f"tt{movie_id:07d}" if template["imdb_id"] else None,
                "original_language": template["original_language"],
                "original_title": title,
                "overview": _words(rng, self.sample.vocabulary, len((template["overview"] or "").split())),
                "popularity": float(final["popularity"][i]),
                "poster_path": f"/p{movie_id:08d}.jpg" if template["poster_path"] else None,
                "production_companies": companies,
                "production_countries": template["production_countries"],
                "release_date": release,
                "revenue": int(template["revenue"] * money_noise[i, 1]),
                "runtime": max(0, template["runtime"] + int(runtime_noise[i])) if template["runtime"] else template["runtime"],
                "spoken_languages": template["spoken_languages"],
                "status": template["status"],
                "tagline": _words(rng, self.sample.vocabulary, len((template["tagline"] or "").split())),
                "title": title,
                "video": template["video"],
                "vote_average": float(final["vote_average"][i]),
                "vote_count": int(final["vote_count"][i]),
            }
            bodies.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        return bodies

    def newest_observation(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Popularity, vote_average, vote_count on the newest day, drawn from the sample's marginals."""
        rng = np.random.default_rng([self.seed, 2, start])
        records = self.sample.records
        picks = rng.integers(0, len(records), (stop - start, 3))
        popularity = np.array([records[j]["popularity"] for j in picks[:, 0]]) * np.exp(rng.normal(0, 0.3, stop - start))
        vote_count = np.array([records[j]["vote_count"] for j in picks[:, 1]], dtype=np.int64)
        vote_count = np.rint(vote_count * np.exp(rng.normal(0, 0.3, stop - start))).astype(np.int64)
        vote_average = np.array([records[j]["vote_average"] for j in picks[:, 2]])
        vote_average = np.where(vote_count > 0, np.clip(vote_average + rng.normal(0, 0.3, stop - start), 0, 10), 0.0)
        return {
            "popularity": np.round(popularity, 3),
            "vote_average": np.round(vote_average, 3),
            "vote_count": vote_count,
        }

    def history(self, start: int, stop: int, newest: dict[str, np.ndarray], days: int):
        """Yield ``(date, popularity, vote_average, vote_count)`` for each older day, newest first."""
        rng = np.random.default_rng([self.seed, 3, start])
        popularity = newest["popularity"].copy()
        vote_average = newest["vote_average"].copy()
        vote_count = newest["vote_count"].copy()
        for back in range(1, days):
            # Walking back in time: yesterday's count is today's minus the votes that arrived today.
            arrived = np.minimum(vote_count, rng.poisson(vote_count * 0.002 + 0.05))
            drift = np.where(arrived > 0, rng.normal(0, 0.01, len(vote_count)), 0.0)
            vote_count = vote_count - arrived
            vote_average = np.where(vote_count > 0, np.clip(vote_average + drift, 0, 10), 0.0)
            popularity = popularity * np.exp(rng.normal(0, 0.08, len(popularity)))
            yield (
                self.end_date - timedelta(days=back),
                np.round(popularity, 3),
                np.round(vote_average, 3),
                vote_count.copy(),
            )


def generate(
    out: Path,
    movies: int,
    days: int,
    seed: int = 42,
    end_date: str = DEFAULT_END_DATE,
    sample_dir: Path = DEFAULT_SAMPLE,
    jsonl: bool = False,
) -> dict:
    """Write one synthetic catalogue to ``out`` (see the module docstring for the files).

    Args:
        movies: number of movies (>= 1).
        days: daily observations per movie, the newest included (>= 1).
        seed: random seed; the same arguments give identical files.
        end_date: the newest partition date, ``YYYY-MM-DD``.
        jsonl: also write ``movies.jsonl.gz`` and ``genres.json`` for the local TMDB server.

    Returns:
        the contents of ``catalogue.json``: parameters, row counts, bytes of JSON, seconds.

    Raises:
        ValueError: ``movies`` or ``days`` below 1.
        FileNotFoundError: the sample snapshot is missing.
    """
    if movies < 1 or days < 1:
        raise ValueError(f"movies and days must be at least 1, got movies={movies}, days={days}")
    started = time.monotonic()
    sample = Sample.load(sample_dir)
    generator = CatalogueGenerator(sample, movies, seed, end_date)
    out.mkdir(parents=True, exist_ok=True)
    json_bytes = 0
    daily_rows = 0
    snapshot = gzip.open(out / "movies.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) if jsonl else None
    # Older days are written day-major (one row group a day, like daily partitions), so the
    # chunks' walks are buffered per day: 1M movies x 29 days is ~1 GB of numpy arrays.
    history_by_day: dict[date, list[tuple]] = {}
    with pq.ParquetWriter(out / "details.parquet", DETAILS_SCHEMA, compression="zstd") as details_writer:
        for start in range(0, movies, CHUNK):
            stop = min(movies, start + CHUNK)
            newest = generator.newest_observation(start, stop)
            bodies = generator.details(start, stop, newest)
            json_bytes += sum(len(body.encode()) for body in bodies)
            details_writer.write_table(pa.table({"movie_id": generator.ids[start:stop], "payload": pa.array(bodies, pa.string())}, DETAILS_SCHEMA))
            if snapshot is not None:
                snapshot.write("\n".join(bodies) + "\n")
            for day, popularity, vote_average, vote_count in generator.history(start, stop, newest, days):
                history_by_day.setdefault(day, []).append((generator.ids[start:stop], popularity, vote_average, vote_count))
            print(f"  details {stop:,}/{movies:,}", file=sys.stderr, flush=True)
    if snapshot is not None:
        snapshot.close()
        shutil.copyfile(sample_dir / "genres.json", out / "genres.json")
    with pq.ParquetWriter(out / "daily.parquet", DAILY_SCHEMA, compression="zstd") as daily_writer:
        for day in sorted(history_by_day):
            parts = history_by_day.pop(day)
            ids = np.concatenate([p[0] for p in parts])
            table = pa.table(
                {
                    "partition_date": pa.array(np.full(len(ids), np.datetime64(day, "D"))),
                    "movie_id": ids,
                    "popularity": np.concatenate([p[1] for p in parts]),
                    "vote_average": np.concatenate([p[2] for p in parts]),
                    "vote_count": np.concatenate([p[3] for p in parts]),
                },
                DAILY_SCHEMA,
            )
            daily_writer.write_table(table)
            daily_rows += table.num_rows
    info = {
        "movies": movies,
        "days": days,
        "seed": seed,
        "end_date": end_date,
        "company_pool": generator.company_pool,
        "collection_pool": generator.collection_pool,
        "details_rows": movies,
        "daily_rows": daily_rows,
        "details_json_bytes": json_bytes,
        "mean_payload_bytes": round(json_bytes / movies, 1),
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "catalogue.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def parse_size(text: str) -> int:
    """``100k`` → 100000, ``1M`` → 1000000, ``2500`` → 2500."""
    factors = {"k": 1_000, "m": 1_000_000}
    text = text.strip().lower()
    if text and text[-1] in factors:
        return int(math.floor(float(text[:-1]) * factors[text[-1]]))
    return int(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=parse_size, required=True, help="catalogue size, e.g. 100k, 300k, 1M")
    parser.add_argument("--days", type=int, default=30, help="daily observations per movie (default 30)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end-date", default=DEFAULT_END_DATE, help="newest partition date")
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="folder holding the real movies.jsonl.gz")
    parser.add_argument("--jsonl", action="store_true", help="also write movies.jsonl.gz + genres.json")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    info = generate(args.out, args.movies, args.days, args.seed, args.end_date, args.sample, args.jsonl)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
