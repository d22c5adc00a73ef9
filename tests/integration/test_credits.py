"""Cast and crew end to end on the session's sample run: the real server appends the real
credits (``tmdb/credits.jsonl.gz``) for the listed movies that have them, and silver, the gold
people dimension, the credits bridges and the director / actor KPIs are checked against
figures computed here from the raw gz files, independently of the SQL.
"""

import csv
import gzip
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import SampleRun
from graph import bronze
from movie_assets.settings import REPO_ROOT

# The dbt_project.yml defaults of the KPI vars (pinned by test_kpi_vars_are_the_issues).
TOP_N = 10
MIN_DIRECTOR_FILMS = 2
MIN_BUDGET_USD = 10_000_000
MIN_VOTE_COUNT = 10
TOP_CAST_SIZE = 5
TWO_DIRECTORS = 100402  # Captain America: The Winter Soldier, Anthony and Joe Russo
CREDIT_KPIS = ("top_director_by_revenue", "top_director_by_median_roi", "top_director_by_rating", "top_actor_by_revenue")


@dataclass(frozen=True)
class Raw:
    """The sample run's movies as the raw files have them.

    Attributes:
        movies: movie id -> movies.jsonl.gz record, for the valid ids of ids/movies.csv found there.
        credits: movie id -> credits.jsonl.gz record, for those of ``movies`` that have a line.
    """

    movies: dict[int, dict]
    credits: dict[int, dict]

    def revenue(self, movie_id: int) -> int | None:
        """Worldwide revenue, USD; TMDB's 0 means unknown."""
        return self.movies[movie_id]["revenue"] or None

    def roi(self, movie_id: int) -> float | None:
        """(revenue - budget) / budget where both are known and the budget reaches the KPI minimum."""
        movie = self.movies[movie_id]
        if movie["budget"] >= MIN_BUDGET_USD and movie["revenue"] > 0:
            return (movie["revenue"] - movie["budget"]) / movie["budget"]
        return None

    def vote(self, movie_id: int) -> float | None:
        movie = self.movies[movie_id]
        return movie["vote_average"] if movie["vote_count"] >= MIN_VOTE_COUNT else None

    def directed(self) -> dict[int, set[int]]:
        """Director person id -> ids of the movies crediting them with the job Director."""
        films: dict[int, set[int]] = defaultdict(set)
        for movie_id, credits in self.credits.items():
            for person in credits["crew"]:
                if person["job"] == "Director":
                    films[person["id"]].add(movie_id)
        return films

    def top_billed(self) -> dict[int, set[int]]:
        """Actor person id -> ids of the movies billing them in the first TOP_CAST_SIZE positions."""
        films: dict[int, set[int]] = defaultdict(set)
        for movie_id, credits in self.credits.items():
            for person in credits["cast"]:
                if person["order"] < TOP_CAST_SIZE:
                    films[person["id"]].add(movie_id)
        return films


def requested_ids(sample_data: Path) -> set[int]:
    """The valid ids of ids/movies.csv (positive integers after trimming, deduplicated)."""
    with open(sample_data / "ids" / "movies.csv", encoding="utf-8-sig", newline="") as handle:
        values = [row["ID"].strip() for row in csv.DictReader(handle)]
    return {int(value) for value in values if value.isdigit() and int(value) > 0}


def read_gz(path: Path, ids: set[int]) -> dict[int, dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = (json.loads(line) for line in handle if line.strip())
        return {record["id"]: record for record in records if record["id"] in ids}


@pytest.fixture(scope="module")
def raw(sample_data: Path) -> Raw:
    movies = read_gz(sample_data / "tmdb" / "movies.jsonl.gz", requested_ids(sample_data))
    return Raw(movies, read_gz(sample_data / "tmdb" / "credits.jsonl.gz", set(movies)))


@pytest.fixture(scope="module")
def warehouse(sample_run: SampleRun):
    conn = duckdb.connect(str(sample_run.settings.duckdb_path), read_only=True)
    yield conn
    conn.close()


def query(conn, sql: str, *params) -> list[tuple]:
    return conn.execute(sql, list(params)).fetchall()


def kpi_rows(conn, kpi: str) -> list[tuple]:
    """(subject_id, subject_name, value) of one KPI, best first."""
    return query(conn, "SELECT subject_id, subject_name, value FROM gold.kpi_summary WHERE kpi = ? ORDER BY rank", kpi)


def ranked(stats: dict[int, float]) -> list[tuple[int, float]]:
    """kpi_ranking's order: best value first, ties by subject id; the top TOP_N."""
    return sorted(stats.items(), key=lambda item: (-item[1], item[0]))[:TOP_N]


def director_stats(raw: Raw, metric) -> dict[int, list]:
    """Director -> the metric's values over their films having it, for directors with enough."""
    values = {person_id: [value for movie_id in films if (value := metric(movie_id)) is not None] for person_id, films in raw.directed().items()}
    return {person_id: found for person_id, found in values.items() if len(found) >= MIN_DIRECTOR_FILMS}


def test_kpi_vars_are_the_issues():
    variables = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    assert variables["kpi_min_director_films"] == MIN_DIRECTOR_FILMS
    assert (variables["kpi_top_n"], variables["kpi_min_budget_usd"]) == (TOP_N, MIN_BUDGET_USD)
    assert (variables["kpi_min_vote_count"], variables["top_cast_size"]) == (MIN_VOTE_COUNT, TOP_CAST_SIZE)


def test_sample_has_the_documented_credits(raw: Raw):
    # ../shared/data/README.md: 101 of the listed movies have credits, each with a director.
    assert len(raw.movies) == 300 and len(raw.credits) == 101
    assert all(any(person["job"] == "Director" for person in credits["crew"]) for credits in raw.credits.values())


def test_top_director_by_revenue_and_their_median_roi(warehouse, raw: Raw):
    totals = {person_id: sum(found) for person_id, found in director_stats(raw, raw.revenue).items()}
    expected = ranked(totals)
    rows = kpi_rows(warehouse, "top_director_by_revenue")
    assert [(subject, value) for subject, _, value in rows] == expected
    top_director, top_total = expected[0]
    assert rows[0][1] == "James Cameron" and top_total == 4_632_999_275

    films = raw.directed()[top_director]
    median_roi = statistics.median(roi for movie_id in films if (roi := raw.roi(movie_id)) is not None)
    roi_rows = {subject: value for subject, _, value in kpi_rows(warehouse, "top_director_by_median_roi")}
    assert roi_rows[top_director] == pytest.approx(median_roi)


def test_director_median_roi_and_rating_match_raw_files(warehouse, raw: Raw):
    medians = {person_id: statistics.median(found) for person_id, found in director_stats(raw, raw.roi).items()}
    rows = kpi_rows(warehouse, "top_director_by_median_roi")
    assert rows[0][0] == ranked(medians)[0][0]
    assert {subject: value for subject, _, value in rows} == pytest.approx(dict(ranked(medians)))

    means = {person_id: statistics.fmean(found) for person_id, found in director_stats(raw, raw.vote).items()}
    rows = kpi_rows(warehouse, "top_director_by_rating")
    assert len(rows) == TOP_N and rows[0][0] == ranked(means)[0][0]
    assert all(value == pytest.approx(means[subject]) for subject, _, value in rows)


def test_top_billed_actors_by_revenue_match_raw_files(warehouse, raw: Raw):
    totals = {
        person_id: sum(revenues)
        for person_id, films in raw.top_billed().items()
        if (revenues := [revenue for movie_id in films if (revenue := raw.revenue(movie_id)) is not None])
    }
    rows = kpi_rows(warehouse, "top_actor_by_revenue")
    assert [(subject, value) for subject, _, value in rows] == ranked(totals)


def test_credit_kpis_state_their_coverage(warehouse, raw: Raw):
    rows = query(warehouse, "SELECT DISTINCT kpi, movies_with_credits, movies_total FROM gold.kpi_summary ORDER BY kpi")
    # One count per KPI, and every credit KPI has rows on the sample.
    assert len(rows) == len({kpi for kpi, _, _ in rows}) and set(CREDIT_KPIS) <= {kpi for kpi, _, _ in rows}
    for kpi, covered, total in rows:
        assert (covered, total) == ((len(raw.credits) if kpi in CREDIT_KPIS else None), len(raw.movies)), kpi
    assert query(warehouse, "SELECT count(*) FROM gold.dim_movie WHERE credits_known") == [(len(raw.credits),)]


def test_movie_without_credits_has_no_cast_and_is_in_no_kpi(sample_run: SampleRun, warehouse, raw: Raw):
    without = sorted(movie_id for movie_id in raw.movies if movie_id not in raw.credits and raw.revenue(movie_id))
    assert without
    movie_id = without[0]
    with bronze(sample_run.settings) as lake:
        payload = json.loads(query(lake, "SELECT payload FROM bronze.tmdb_movies WHERE movie_id = ?", movie_id)[0][0])
    assert "credits" not in payload
    assert query(
        warehouse,
        "SELECT body.credits IS NULL, credits_known FROM silver.tmdb_latest_bodies JOIN gold.dim_movie USING (movie_id) WHERE movie_id = ?",
        movie_id,
    ) == [(True, False)]
    for table in ("silver.tmdb_movie_cast", "silver.tmdb_movie_crew", "gold.bridge_movie_cast", "gold.bridge_movie_crew"):
        assert query(warehouse, f"SELECT count(*) FROM {table} WHERE movie_id = ?", movie_id) == [(0,)], table
    # No movie of unknown credits reaches a person, so none feeds a director or actor KPI.
    for bridge in ("gold.bridge_movie_cast", "gold.bridge_movie_crew"):
        assert query(warehouse, f"SELECT count(*) FROM {bridge} JOIN gold.dim_movie USING (movie_id) WHERE NOT credits_known") == [(0,)]
    assert query(warehouse, "SELECT count(DISTINCT movie_id) FROM gold.bridge_movie_crew") == [(len(raw.credits),)]


def test_movie_with_two_directors_counts_for_both(warehouse, raw: Raw):
    crew = raw.credits[TWO_DIRECTORS]["crew"]
    directors = {person["id"]: person["name"] for person in crew if person["job"] == "Director"}
    assert sorted(directors.values()) == ["Anthony Russo", "Joe Russo"]
    assert query(
        warehouse,
        "SELECT person_id FROM gold.bridge_movie_crew WHERE movie_id = ? AND job = 'Director' ORDER BY person_id",
        TWO_DIRECTORS,
    ) == [(person_id,) for person_id in sorted(directors)]
    for kpi, metric, aggregate in [
        ("top_director_by_median_roi", raw.roi, statistics.median),
        ("top_director_by_rating", raw.vote, statistics.fmean),
    ]:
        rows = {subject: value for subject, _, value in kpi_rows(warehouse, kpi)}
        for person_id in directors:
            films = raw.directed()[person_id]
            assert TWO_DIRECTORS in films and metric(TWO_DIRECTORS) is not None
            assert rows[person_id] == pytest.approx(aggregate([metric(movie_id) for movie_id in films])), (kpi, person_id)


def test_bridges_hold_every_credit(warehouse, raw: Raw):
    cast = sorted(
        (movie_id, person["id"], person["character"] or None, person["order"], person["credit_id"])
        for movie_id, credits in raw.credits.items()
        for person in credits["cast"]
    )
    assert query(warehouse, 'SELECT movie_id, person_id, "character", cast_order, credit_id FROM gold.bridge_movie_cast ORDER BY ALL') == cast
    crew = sorted(
        {(movie_id, person["id"], person["department"], person["job"]) for movie_id, credits in raw.credits.items() for person in credits["crew"]}
    )
    assert query(warehouse, "SELECT movie_id, person_id, department, job FROM gold.bridge_movie_crew ORDER BY ALL") == crew


def test_dim_person_from_the_credits(warehouse, raw: Raw):
    names: dict[int, Counter] = defaultdict(Counter)
    genders: dict[int, Counter] = defaultdict(Counter)
    departments: dict[int, Counter] = defaultdict(Counter)
    for credits in raw.credits.values():
        for person in credits["cast"]:
            names[person["id"]][person["name"]] += 1
            genders[person["id"]][person["gender"]] += 1
            departments[person["id"]]["Acting"] += 1
        for person in {(p["id"], p["department"], p["job"]): p for p in credits["crew"]}.values():
            names[person["id"]][person["name"]] += 1
            genders[person["id"]][person["gender"]] += 1
            departments[person["id"]][person["department"]] += 1

    def most_frequent(counts: Counter):
        """The most frequent value, ties to the one sorting first."""
        return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]

    def gender(counts: Counter) -> int:
        """TMDB's 0 is "not set": the most frequent other code, else 0."""
        known = Counter({code: count for code, count in counts.items() if code})
        return most_frequent(known) if known else 0

    expected = sorted(
        (person_id, most_frequent(names[person_id]), gender(genders[person_id]), most_frequent(departments[person_id])) for person_id in names
    )
    people = query(warehouse, "SELECT person_id, name, gender, known_for_department FROM gold.dim_person ORDER BY ALL")
    assert people == expected
    # Cameron's two listed films credit him with 3 Writing jobs (Writer, Screenplay twice) and
    # 2 each in Directing, Editing and Production: credits decide, not TMDB's label.
    assert query(warehouse, "SELECT gender, known_for_department FROM gold.dim_person WHERE person_id = 2710") == [(2, "Writing")]


def test_top_directors_report_shape(warehouse, raw: Raw):
    rows = query(
        warehouse,
        "SELECT rank, person_id, director_name, total_revenue_usd, films_with_revenue, movies_with_credits, movies_total "
        "FROM gold.rpt_top_directors_by_revenue ORDER BY rank",
    )
    kpi = kpi_rows(warehouse, "top_director_by_revenue")
    assert [(person_id, name, total) for _, person_id, name, total, *_ in rows] == kpi
    assert [rank for rank, *_ in rows] == list(range(1, len(kpi) + 1))
    films = director_stats(raw, raw.revenue)
    assert [count for *_, count, _, _ in rows] == [len(films[person_id]) for _, person_id, *_ in rows]
    assert {(covered, total) for *_, covered, total in rows} == {(len(raw.credits), len(raw.movies))}
