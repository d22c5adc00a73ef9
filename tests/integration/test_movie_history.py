"""The movie history (gold.dim_movie_history, gold.fct_movie_attribute_changes,
gold.rpt_changes_of_the_day, the published gold.movies_as_of) on the two real TMDB observations.

The analyst's id list sees almost no change between the two files, so here every id of the
later observation (3,086) is listed on both days: day 1 serves ``tmdb/movies.jsonl.gz``
(about February 2017), day 2 ``tmdb/movies_2017-07.jsonl.gz`` (July 2017), through real
Dagster runs of the TMDB chain (local TMDB server, bronze, dbt build), then published as the
publish asset does. Expected
changes are counted here from the two raw files with plain Python, independently of the SQL.

The history counts a fetch on the day it observed (a late fetch on the day it was made), so
the two Dagster days are yesterday and today, both on time with 24 grace hours: fixed past
days would be refetches, both made today.

Order independence runs dbt itself on lakes assembled from those two days' bronze partitions:
re-running day 2, and days 1, 3 then 2 (day 3 a copy of day 1's fetches, so the backfill of
day 2 splits a version), give the rows of a full rebuild. Late fetches are tested the same
way, on partitions whose ``fetched_at`` the test sets.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, AssetSelection

from conftest import SAMPLE_DATA, make_settings
from graph import LATER_FILE, later_snapshot, run_selection
from movie_assets.serving.publish import publish_snapshot
from movie_assets.settings import Settings
from movie_assets.tmdb.assets import TMDB_MOVIES_TABLE
from movie_assets.tmdb.observation import observation_deadline, utc_now
from movie_assets.warehouse.lake import Lake
from support.dbt_cli import dbt

#: Yesterday's fetch, made today, still observes yesterday (MOVIES_OBSERVATION_GRACE_HOURS at its maximum).
GRACE_HOURS = 24
HISTORY_TABLES = ("gold.dim_movie_history", "gold.fct_movie_attribute_changes")
HISTORY_MODELS = ("tmdb_movie_attribute_snapshots", "dim_movie_history", "fct_movie_attribute_changes")
# The TMDB chain with the history and its report.
HISTORY_CHAIN = (
    AssetSelection.assets(
        *[AssetKey(["gold", name]) for name in ("dim_movie", "dim_movie_history", "fct_movie_attribute_changes", "rpt_changes_of_the_day")],
    )
    .upstream()
    .required_multi_asset_neighbors()
)
TRACKED = ("title", "original_title", "status", "release_date", "runtime_minutes", "budget_usd", "revenue_usd", "genres", "collection", "imdb_id")


def tracked_values(movie: dict) -> dict[str, object]:
    """The tracked attributes of one raw TMDB body, read as the warehouse reads them: 0 and ''
    are unknown (None), genres are the sorted names joined by ', ', the collection is its
    (id, name). Plain Python, independent of the SQL."""

    def known(value):
        return value if value not in (0, "", None) else None

    try:
        released = date.fromisoformat(movie.get("release_date") or "")
    except ValueError:
        released = None
    collection = movie.get("belongs_to_collection")
    return {
        "title": movie.get("title"),
        "original_title": movie.get("original_title"),
        "status": known(movie.get("status")),
        "release_date": released,
        "runtime_minutes": known(movie.get("runtime")),
        "budget_usd": known(movie.get("budget")),
        "revenue_usd": known(movie.get("revenue")),
        "genres": ", ".join(sorted(genre["name"] for genre in movie.get("genres") or [])) or None,
        "collection": (collection["id"], collection["name"]) if collection else None,
        "imdb_id": known(movie.get("imdb_id")),
    }


def read_raw(file_name: str) -> dict[int, dict]:
    with gzip.open(SAMPLE_DATA / "tmdb" / file_name, "rt", encoding="utf-8") as handle:
        return {movie["id"]: movie for movie in map(json.loads, handle)}


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[int, dict]]:
    """The two raw observations, restricted to the later file's ids (all in the first file)."""
    later = read_raw(LATER_FILE)
    first = {movie_id: movie for movie_id, movie in read_raw("movies.jsonl.gz").items() if movie_id in later}
    return {"first": first, "later": later}


def expected_changes(raw: dict) -> Counter:
    """Per attribute, the movies whose value differs between the two files."""
    counts: Counter = Counter()
    for movie_id, later in raw["later"].items():
        before, after = tracked_values(raw["first"][movie_id]), tracked_values(later)
        counts.update(name for name in TRACKED if before[name] != after[name])
    return counts


def query(path: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql, parameters or []).fetchall()


def rows_of(path: Path, tables=HISTORY_TABLES) -> dict[str, Counter]:
    """Every row (as a tuple, lists as tuples, duplicates counted) of ``tables`` in the DuckDB file at ``path``."""
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            table: Counter(
                tuple(tuple(value) if isinstance(value, list) else value for value in row)
                for row in conn.execute(f"SELECT * FROM {table}").fetchall()
            )
            for table in tables
        }


def date_id(day: str) -> int:
    return int(day.replace("-", ""))


def next_day(day: str, days: int = 1) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def wait_if_near_midnight(margin: timedelta = timedelta(minutes=5)) -> None:
    """Sleeps past the next UTC midnight when it is less than ``margin`` away, so that days taken
    from the clock stay yesterday and today while the runs fetch (yesterday's fetch made after
    that midnight would be late)."""
    now = utc_now()
    midnight = observation_deadline(now.date(), grace_hours=0)
    if midnight - now < margin:
        time.sleep((midnight - now).total_seconds() + 1)


def full_rebuild(settings: Settings, work: Path) -> dict[str, Counter]:
    """The history tables of a ``dbt run --full-refresh`` (no window) on a copy of the build
    file over the same lake; the build file itself is left as it was."""
    shutil.rmtree(work, ignore_errors=True)
    rebuilt = make_settings(work, lake_dir=settings.lake_dir, input_dir=settings.input_dir, observation_grace_hours=settings.observation_grace_hours)
    rebuilt.build_duckdb_path.parent.mkdir(parents=True)
    shutil.copyfile(settings.build_duckdb_path, rebuilt.build_duckdb_path)
    dbt(rebuilt, work, "run", "--full-refresh", "--select", *HISTORY_MODELS)
    return rows_of(rebuilt.build_duckdb_path)


@pytest.fixture(scope="module")
def history_input(tmp_path_factory: pytest.TempPathFactory, raw: dict) -> Path:
    """An input folder like the sample's whose id list is every id of the later observation."""
    folder = tmp_path_factory.mktemp("history_input")
    (folder / "tmdb").symlink_to(SAMPLE_DATA / "tmdb", target_is_directory=True)
    (folder / "providers").symlink_to(SAMPLE_DATA / "providers", target_is_directory=True)
    (folder / "ids").mkdir()
    (folder / "ids" / "movies.csv").write_text("ID\n" + "".join(f"{movie_id}\n" for movie_id in sorted(raw["later"])))
    return folder


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory, history_input: Path, dbt_manifest: Path) -> dict:
    """Day 1 (yesterday) and day 2 (today) through Dagster, then day 2 again. Returns the
    days, the settings, day 1's gold.dim_movie, and the history rows after day 2, after its
    re-run and of full rebuilds."""
    root = tmp_path_factory.mktemp("history")
    settings = make_settings(root / "run", input_dir=history_input, observation_grace_hours=GRACE_HOURS)
    wait_if_near_midnight()
    today = utc_now().date()
    day_1, day_2 = (today - timedelta(days=1)).isoformat(), today.isoformat()
    result = run_selection(settings, HISTORY_CHAIN, partition_key=day_1)
    assert result.success
    with duckdb.connect(str(settings.build_duckdb_path), read_only=True) as conn:
        day_1_movies = conn.execute(
            "SELECT movie_id, title, original_title, status, release_date, runtime_minutes, budget_usd, revenue_usd, "
            "nullif(genres, ''), collection_id, collection_name, imdb_id FROM gold.dim_movie"
        ).fetchall()
    later = {"tmdb": later_snapshot(settings)}
    observed = {"day_1": day_1, "day_2": day_2, "settings": settings, "day_1_movies": day_1_movies}
    for step in ("after_day_2", "day_2_again"):
        result = run_selection(settings, HISTORY_CHAIN, resources=later, partition_key=day_2)
        assert result.success, step
        observed[step] = rows_of(settings.build_duckdb_path)
        observed[f"{step}_rebuilt"] = full_rebuild(settings, root / f"{step}_rebuilt")
    # The readers' snapshot, as the publish asset makes it after a run's checks pass.
    publish_snapshot(
        settings.build_duckdb_path,
        Lake(settings.lake_dir),
        settings.serving_dir,
        settings.duckdb_path,
        keep=3,
        run_id="history-test",
        partition_date=day_2,
        tmdb_source="snapshot",
    )
    return observed


def test_changes_per_attribute_equal_a_count_from_the_raw_files(two_days: dict, raw: dict):
    expected = expected_changes(raw)
    found = dict(
        query(
            two_days["settings"].build_duckdb_path,
            "SELECT attribute, count(*) FROM gold.fct_movie_attribute_changes WHERE date_id = ? GROUP BY attribute",
            [date_id(two_days["day_2"])],
        )
    )
    assert found == dict(expected)
    # The real revisions are there: revenues, release dates and genres changed for some movies.
    assert expected["revenue_usd"] > 0 and expected["release_date"] > 0 and expected["genres"] > 0


def test_each_changed_movie_has_a_second_version_naming_its_changes(two_days: dict, raw: dict):
    expected = {}
    for movie_id, later in raw["later"].items():
        before, after = tracked_values(raw["first"][movie_id]), tracked_values(later)
        changed = sorted(name for name in TRACKED if before[name] != after[name])
        if changed:
            expected[movie_id] = changed
    found = query(
        two_days["settings"].build_duckdb_path,
        "SELECT movie_id, list_sort(changed_attributes), valid_from FROM gold.dim_movie_history WHERE version_number = 2",
    )
    assert {movie_id: changed for movie_id, changed, _ in found} == expected
    assert {valid_from for _, _, valid_from in found} == {date.fromisoformat(two_days["day_2"])}


def test_change_kinds_and_values(two_days: dict, raw: dict):
    rows = query(
        two_days["settings"].build_duckdb_path,
        "SELECT movie_id, attribute, old_value, new_value, change_kind FROM gold.fct_movie_attribute_changes",
    )
    for movie_id, attribute, old_value, new_value, kind in rows:
        before = tracked_values(raw["first"][movie_id])[attribute]
        after = tracked_values(raw["later"][movie_id])[attribute]
        assert kind == ("filled" if before is None else "cleared" if after is None else "revised"), (movie_id, attribute)
        if attribute in ("budget_usd", "revenue_usd", "runtime_minutes", "release_date"):
            assert (old_value, new_value) == tuple(None if value is None else str(value) for value in (before, after))


def test_scd2_invariants(two_days: dict):
    path = two_days["settings"].build_duckdb_path
    # Versions of a movie neither overlap nor leave a gap: each one ends where the next starts.
    ((broken,),) = query(
        path,
        """
        SELECT count(*) FROM (
            SELECT valid_to, lead(valid_from) OVER (PARTITION BY movie_id ORDER BY valid_from) AS next_from,
                   valid_from, last_seen_date
            FROM gold.dim_movie_history
        ) WHERE valid_to IS DISTINCT FROM next_from OR valid_to <= valid_from OR last_seen_date < valid_from
                OR last_seen_date >= coalesce(valid_to, DATE '9999-12-31')
    """,
    )
    assert broken == 0
    ((movies, current, current_movies, bad_current),) = query(
        path,
        """
        SELECT count(DISTINCT movie_id), count(*) FILTER (is_current), count(DISTINCT movie_id) FILTER (is_current),
               count(*) FILTER (is_current != (valid_to IS NULL))
        FROM gold.dim_movie_history
    """,
    )
    assert movies == current == current_movies == 3086 and bad_current == 0


def test_the_current_version_is_dim_movie(two_days: dict):
    path = two_days["settings"].build_duckdb_path
    ((differences,),) = query(
        path,
        """
        SELECT count(*) FROM (
            (SELECT movie_id, title, original_title, status, release_date, runtime_minutes, budget_usd, revenue_usd,
                    nullif(genres, ''), collection_id, collection_name, imdb_id FROM gold.dim_movie
             EXCEPT ALL
             SELECT movie_id, title, original_title, status, release_date, runtime_minutes, budget_usd, revenue_usd,
                    genres, collection_id, collection_name, imdb_id FROM gold.dim_movie_history WHERE is_current)
        )
    """,
    )
    assert differences == 0


def test_published_movies_as_of_day_1_is_day_1s_dim_movie(two_days: dict):
    readers = two_days["settings"].duckdb_path
    as_of = sorted(
        query(
            readers,
            f"""
        SELECT movie_id, title, original_title, status, release_date, runtime_minutes, budget_usd, revenue_usd,
               genres, collection_id, collection_name, imdb_id
        FROM gold.movies_as_of(DATE '{two_days["day_1"]}')
    """,
        )
    )
    assert as_of == sorted(two_days["day_1_movies"]) and len(as_of) == 3086
    # On day 2 the movies are their current versions; before day 1 there is no movie.
    ((current,),) = query(readers, f"SELECT count(*) FROM gold.movies_as_of(DATE '{two_days['day_2']}') WHERE NOT is_current")
    ((before,),) = query(readers, f"SELECT count(*) FROM gold.movies_as_of(DATE '{next_day(two_days['day_1'], -1)}')")
    assert current == 0 and before == 0


def test_changes_of_the_day_report_is_day_2s_changes(two_days: dict):
    path = two_days["settings"].build_duckdb_path
    report = query(path, "SELECT movie_id, attribute, old_value, new_value FROM gold.rpt_changes_of_the_day")
    changes = query(
        path, f"SELECT movie_id, attribute, old_value, new_value FROM gold.fct_movie_attribute_changes WHERE date_id = {date_id(two_days['day_2'])}"
    )
    assert sorted(report, key=str) == sorted(changes, key=str) and len(report) > 0


@pytest.mark.parametrize("step", ["after_day_2", "day_2_again"])
def test_daily_runs_equal_a_full_rebuild(two_days: dict, step: str):
    assert two_days[step] == two_days[f"{step}_rebuilt"]


def test_rerunning_day_2_changes_nothing(two_days: dict):
    assert two_days["day_2_again"] == two_days["after_day_2"]


def noon(day: str, hour: int = 12) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC) + timedelta(hours=hour)


def empty_build(two_days: dict, root: Path) -> Settings:
    """Settings of a fresh build file and lake under ``root`` (the Dagster days' dead letters
    copied), for :func:`file_and_run`."""
    settings = make_settings(root / "run", input_dir=two_days["settings"].input_dir, observation_grace_hours=GRACE_HOURS)
    settings.build_duckdb_path.parent.mkdir(parents=True)
    source = Lake(two_days["settings"].lake_dir)
    shutil.copytree(source.table_dir("tmdb_dead_letter"), Lake(settings.lake_dir).table_dir("tmdb_dead_letter"))
    return settings


def file_and_run(
    two_days: dict, settings: Settings, root: Path, day: str, served: str, fetched_at: datetime, leave_out: frozenset[int] = frozenset()
) -> None:
    """Files ``two_days``' bronze fetches of ``served`` ("day_1" or "day_2") under ``day`` in
    ``settings``' lake, as made at ``fetched_at``, without the movies ``leave_out``, then runs
    the history models for that day's window."""
    rows = pq.read_table(Lake(two_days["settings"].lake_dir).partition_file(TMDB_MOVIES_TABLE, two_days[served]))
    if leave_out:
        rows = rows.filter(pc.invert(pc.is_in(rows["movie_id"], pa.array(sorted(leave_out), rows.schema.field("movie_id").type))))
    column = rows.schema.get_field_index("fetched_at")
    field = rows.schema.field(column)
    Lake(settings.lake_dir).write_partition(
        TMDB_MOVIES_TABLE, day, rows.set_column(column, field, pa.array([fetched_at] * rows.num_rows, field.type))
    )
    dbt(settings, root / day, "run", "--select", *HISTORY_MODELS, window={"min_date": day, "max_date": next_day(day)})


def lake_of_fetches(two_days: dict, root: Path, steps: list[tuple[str, str, datetime]]) -> Settings:
    """A fresh build through :func:`file_and_run` of each ``(day, served, fetched_at)`` step, in order."""
    settings = empty_build(two_days, root)
    for step in steps:
        file_and_run(two_days, settings, root, *step)
    return settings


def test_days_1_3_then_2_equal_a_full_rebuild(two_days: dict, tmp_path: Path):
    """Day 3 repeats day 1's fetches; day 2 (the later file) arrives last, as a backfill older
    than the newest day: the movies that changed get three versions, as a full rebuild gives."""
    day_1, day_2, day_3 = "2026-11-20", "2026-11-21", "2026-11-22"
    steps = [(day_1, "day_1", noon(day_1)), (day_3, "day_1", noon(day_3)), (day_2, "day_2", noon(day_2))]
    settings = lake_of_fetches(two_days, tmp_path, steps)
    assert rows_of(settings.build_duckdb_path) == full_rebuild(settings, tmp_path / "rebuilt")
    ((three_versions,),) = query(settings.build_duckdb_path, "SELECT count(DISTINCT movie_id) FROM gold.dim_movie_history WHERE version_number = 3")
    assert three_versions == len(two_days["after_day_2"]["gold.dim_movie_history"]) - 3086 > 0


def test_late_fetches_count_on_the_day_they_were_made(two_days: dict, raw: dict, tmp_path: Path):
    """A backfill with refetch files the values of the day it runs under past days. On time:
    the first file on day A and on day A+2. Late, run after them as backfills: the later file
    under A-10, fetched on A+2 (that day's on-time fetch is its observation), and under A-9,
    fetched on A+3. The history starts on A, the revisions date from A+3, and the daily runs
    equal a full rebuild."""
    day_a = "2026-10-01"
    day_c, day_d = next_day(day_a, 2), next_day(day_a, 3)
    steps = [
        (day_a, "day_1", noon(day_a)),
        (day_c, "day_1", noon(day_c, 8)),
        (next_day(day_a, -10), "day_2", noon(day_c, 10)),
        (next_day(day_a, -9), "day_2", noon(day_d, 9)),
    ]
    settings = lake_of_fetches(two_days, tmp_path, steps)
    path = settings.build_duckdb_path
    assert rows_of(path) == full_rebuild(settings, tmp_path / "rebuilt")
    found = dict(query(path, "SELECT attribute, count(*) FROM gold.fct_movie_attribute_changes GROUP BY attribute"))
    assert found == dict(expected_changes(raw))
    ((first_day, change_days),) = query(
        path, "SELECT (SELECT min(valid_from) FROM gold.dim_movie_history), (SELECT list(DISTINCT date_id) FROM gold.fct_movie_attribute_changes)"
    )
    assert first_day == date.fromisoformat(day_a) and change_days == [date_id(day_d)]
    # A changed movie's first version was last seen on A+2: the on-time fetch of the first
    # file, not the late fetch of the later one made the same day.
    versions = query(
        path,
        "SELECT DISTINCT version_number, valid_from, last_seen_date, valid_to FROM gold.dim_movie_history WHERE movie_id IN "
        "(SELECT movie_id FROM gold.fct_movie_attribute_changes) ORDER BY 1",
    )
    a, c, d = (date.fromisoformat(day) for day in (day_a, day_c, day_d))
    assert versions == [(1, a, c, d), (2, d, d, None)]


def test_a_late_fetch_appended_by_a_daily_run_gives_way_to_its_days_on_time_fetch(two_days: dict, raw: dict, tmp_path: Path):
    """The daily path (a history that ends before the window is extended, not derived again)
    with a late fetch: day A on time (first file); the later file under A+1 fetched on A+3, so
    it counts on A+3 and its revisions are appended; then A+3's own on-time fetch (first file),
    which is that day's observation: no change is left, as a full rebuild gives."""
    day_a = "2026-10-01"
    day_d = next_day(day_a, 3)
    settings = empty_build(two_days, tmp_path)
    path = settings.build_duckdb_path
    file_and_run(two_days, settings, tmp_path, day_a, "day_1", noon(day_a))
    file_and_run(two_days, settings, tmp_path, next_day(day_a), "day_2", noon(day_d, 9))
    found = dict(
        query(path, "SELECT attribute, count(*) FROM gold.fct_movie_attribute_changes WHERE date_id = ? GROUP BY attribute", [date_id(day_d)])
    )
    assert found == dict(expected_changes(raw))
    file_and_run(two_days, settings, tmp_path, day_d, "day_1", noon(day_d, 15))
    assert rows_of(path) == full_rebuild(settings, tmp_path / "rebuilt")
    ((changes, versions, last_seen),) = query(
        path,
        "SELECT (SELECT count(*) FROM gold.fct_movie_attribute_changes), count(*), list(DISTINCT last_seen_date) FROM gold.dim_movie_history",
    )
    assert (changes, versions, last_seen) == (0, 3086, [date.fromisoformat(day_d)])


def test_a_refetched_day_that_loses_late_fetches_gives_a_full_rebuilds_history(two_days: dict, raw: dict, tmp_path: Path):
    """Partition A-10 holds late fetches made on A+2, after day A's on-time ones. Movie
    ``only_late`` was fetched in A-10 only, so its history starts on A+2; ``also_on_time`` was
    fetched on A too. A-10 fetched again without both: ``only_late`` loses its rows, and
    ``also_on_time`` is last seen on A, as a full rebuild gives. Both histories start after
    the re-run's day, so the run looks at every movie whose history reaches the window."""
    day_a = "2026-10-01"
    day_p = next_day(day_a, -10)
    only_late, also_on_time = sorted(raw["later"])[-2:]
    settings = empty_build(two_days, tmp_path)
    path = settings.build_duckdb_path
    file_and_run(two_days, settings, tmp_path, day_a, "day_1", noon(day_a), leave_out=frozenset({only_late}))
    file_and_run(two_days, settings, tmp_path, day_p, "day_2", noon(next_day(day_a, 2)))
    assert query(path, "SELECT count(*) FROM gold.dim_movie_history WHERE movie_id = ?", [only_late]) == [(1,)]
    file_and_run(two_days, settings, tmp_path, day_p, "day_2", noon(next_day(day_a, 2)), leave_out=frozenset({only_late, also_on_time}))
    assert rows_of(path) == full_rebuild(settings, tmp_path / "rebuilt")
    last_seen = dict(
        query(path, "SELECT movie_id, max(last_seen_date) FROM gold.dim_movie_history WHERE movie_id IN (?, ?) GROUP BY 1", [only_late, also_on_time])
    )
    assert last_seen == {also_on_time: date.fromisoformat(day_a)}
