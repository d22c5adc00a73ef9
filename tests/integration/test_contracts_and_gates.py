"""Source contracts and drift gates on copies of the real sample data: a changed TMDB body, a
day where most ids answer 404 and a rescaled provider column are stopped before publication
(the readers' path keeps naming the previous snapshot, byte-identical; the rescaled provider
file is refused at landing, its previous delivery kept); the real second observation
publishes; an operator's acceptance publishes once and is recorded; a gold model whose type
changes fails its dbt build on the enforced contract.

Each test starts from a copy of the session's sample run (day 1 published) and runs day 2
with the TMDB snapshot server over a changed copy of the sample's ``tmdb`` folder.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance

from conftest import SampleRun, copy_run, make_settings
from graph import LATER_FILE, TMDB_CHAIN, run_selection
from movie_assets.acceptance import ACCEPT_TAG
from movie_assets.automation.run_summary import FRESHNESS_PARAMS, format_summary, summarize_events
from movie_assets.providers.contract import ProviderContract, column_failures, load_provider_contract
from movie_assets.providers.deliveries import AUDIENCE_PULSE, CRITIC_AGG, parse_delivery
from movie_assets.settings import REPO_ROOT, Settings
from movie_assets.tmdb.resources import SnapshotTMDBResource, build_tmdb_resource
from movie_assets.warehouse.lake import Lake
from support.dbt_cli import dbt

DAY_2 = "2026-11-21"
PUBLISH = AssetKey(["serving", "warehouse_snapshot"])
DAY_2_GRAPH = TMDB_CHAIN | AssetSelection.assets(PUBLISH)


def tmdb_folder(sample_data: Path, destination: Path, change: Callable[[dict], dict | None] | None = None, later: bool = False) -> Path:
    """A copy of the sample's ``tmdb`` folder whose ``movies.jsonl.gz`` holds the first
    observation's bodies (``later``: the July 2017 observation where it has the movie), each
    passed through ``change`` (None drops the movie: it answers 404)."""
    destination.mkdir(parents=True)
    for name in ("genres.json", "credits.jsonl.gz"):
        shutil.copy(sample_data / "tmdb" / name, destination / name)
    bodies = {body["id"]: body for body in map(json.loads, gzip.open(sample_data / "tmdb" / "movies.jsonl.gz", "rt"))}
    if later:
        bodies.update((body["id"], body) for body in map(json.loads, gzip.open(sample_data / "tmdb" / LATER_FILE, "rt")))
    with gzip.open(destination / "movies.jsonl.gz", "wt", encoding="utf-8") as out:
        for movie_id in sorted(bodies):
            body = change(dict(bodies[movie_id])) if change else bodies[movie_id]
            if body is not None:
                out.write(json.dumps(body) + "\n")
    return destination


def serve(settings: Settings, folder: Path, movies_file: str = "movies.jsonl.gz") -> SnapshotTMDBResource:
    resource = build_tmdb_resource(settings)
    return SnapshotTMDBResource(**{**resource.model_dump(), "snapshot_dir": str(folder), "movies_file": movies_file})


def readers_state(settings: Settings) -> tuple[str, str]:
    """(file name the readers' path names, sha256 of that file)."""
    target = settings.duckdb_path.resolve()
    return target.name, hashlib.sha256(target.read_bytes()).hexdigest()


def day_2(settings: Settings, tmdb: SnapshotTMDBResource, tags: dict[str, str] | None = None, **kwargs):
    return run_selection(settings, DAY_2_GRAPH, partition_key=DAY_2, resources={"tmdb": tmdb}, tags=tags or {}, raise_on_error=False, **kwargs)


def failed_checks(result) -> dict[str, str | None]:
    """Failed checks of severity ERROR by name, with their descriptions; not the freshness
    checks, which judge the instance's history (has today landed?), not the day built."""
    return {
        e.check_name: e.description
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity.value == "ERROR" and FRESHNESS_PARAMS not in e.metadata
    }


def published(result) -> bool:
    return any(event.asset_key == PUBLISH for event in result.get_asset_materialization_events())


def rename_budget(body: dict) -> dict:
    body["budget_usd"] = body.pop("budget")
    return body


def vote_count_as_string(body: dict) -> dict:
    body["vote_count"] = str(body["vote_count"])
    return body


def genres_mostly_missing(body: dict) -> dict:
    if body["id"] % 10:
        body.pop("genres")
    return body


@pytest.mark.parametrize(
    ("change", "field", "share", "reason"),
    [
        (rename_budget, "budget", "0.00", "missing"),
        (vote_count_as_string, "vote_count", "0.00", "is not of type 'integer'"),
        (genres_mostly_missing, "genres", "0.1", "missing"),
    ],
    ids=["declared-field-renamed", "number-as-string", "list-missing-from-most"],
)
def test_a_body_breaking_the_contract_is_stopped_before_silver(
    sample_run: SampleRun, sample_data: Path, tmp_path: Path, change, field: str, share: str, reason: str
):
    settings = copy_run(sample_run, tmp_path / "run")
    before = readers_state(settings)
    result = day_2(settings, serve(settings, tmdb_folder(sample_data, tmp_path / "tmdb", change)))
    failures = failed_checks(result)
    assert "tmdb_movies_body_contract" in failures
    line = failures["tmdb_movies_body_contract"]
    assert line.startswith(f"{field}: carried as") and f"by {share}" in line and reason in line
    # Three example movie ids, then the reason.
    assert len(line.split("e.g. movie ids ")[1].split(" (")[0].split(", ")) == 3
    assert not published(result)
    assert readers_state(settings) == before
    if change is rename_budget:
        evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == "tmdb_movies_body_contract")
        assert evaluation.metadata["unknown_fields"].value == {"budget_usd": 300}


def test_a_day_where_most_ids_answer_404_is_stopped_then_accepted_once(sample_run: SampleRun, sample_data: Path, tmp_path: Path):
    """The July 2017 observation served alone: 253 of the list's 310 ids answer 404."""
    settings = copy_run(sample_run, tmp_path / "run")
    before = readers_state(settings)
    tmdb = serve(settings, sample_data / "tmdb", LATER_FILE)
    with DagsterInstance.ephemeral() as instance:
        result = day_2(settings, tmdb, instance=instance)
        summary = summarize_events(result.run_id, DAY_2, result.success, instance.all_logs(result.run_id))
    failures = failed_checks(result)
    assert list(failures) == ["tmdb_landed_volume"]
    assert failures["tmdb_landed_volume"] == ("bronze.tmdb_movies landed 57 movies for 2026-11-21, 0.19 of 300 on 2026-11-20 (limit 0.50)")
    assert not published(result) and not result.success
    assert readers_state(settings) == before
    text = format_summary(summary, {}, {}, "snapshot", {})
    assert "FAILED (ERROR) serving/warehouse_snapshot:tmdb_landed_volume" in text
    assert "bronze.tmdb_movies landed 57 movies for 2026-11-21, 0.19 of 300" in text

    accepted = day_2(settings, tmdb, tags={ACCEPT_TAG: "tmdb_landed_volume"})
    assert accepted.success and published(accepted)
    name, _ = readers_state(settings)
    assert name != before[0]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        rows = conn.execute("SELECT run_id, accepted_checks FROM meta.publication ORDER BY published_at").fetchall()
    assert [json.loads(accepted_checks or "[]") for _, accepted_checks in rows] == [[], ["tmdb_landed_volume"]]
    assert rows[-1][0] == accepted.run_id


def test_the_real_second_observation_passes_every_gate(sample_run: SampleRun, sample_data: Path, tmp_path: Path):
    """Day 2 as TMDB would answer it: the July 2017 observation where it has the movie (votes,
    revenue and TMDB's new popularity scale), the first observation otherwise."""
    settings = copy_run(sample_run, tmp_path / "run")
    before = readers_state(settings)
    result = day_2(settings, serve(settings, tmdb_folder(sample_data, tmp_path / "tmdb", later=True)))
    assert result.success
    assert not failed_checks(result)
    assert published(result) and readers_state(settings)[0] != before[0]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        profile = json.loads(conn.execute("SELECT profile FROM meta.publication ORDER BY published_at DESC LIMIT 1").fetchone()[0])
    assert profile["landed"] == {"partition": DAY_2, "movies": 300, "previous_partition": "2026-11-20", "previous_movies": 300}
    assert profile["columns"]["gold.dim_movie.budget_usd"]["non_null_share"] > 0.5


def test_a_provider_column_on_a_new_scale_is_refused_at_landing(sample_run: SampleRun, sample_data: Path, tmp_path: Path):
    """critic_agg.csv's Average Critic Score (0-10, declared once in dbt var provider_columns)
    delivered on a 0-100 scale: most values leave their range, so the delivery is refused
    before it lands; the previous delivery stays current and nothing is published."""
    settings = copy_run(sample_run, tmp_path / "run")
    inputs = tmp_path / "input"
    shutil.copytree(sample_data / "providers", inputs / "providers")
    for folder in ("tmdb", "ids"):
        (inputs / folder).symlink_to(sample_data / folder)
    critic = inputs / "providers" / "critic_agg.csv"
    with critic.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["Average Critic Score"]:
            row["Average Critic Score"] = f"{float(row['Average Critic Score']) * 10:g}"
    critic.chmod(0o644)
    with critic.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    settings = make_settings(tmp_path / "run", input_dir=inputs)
    before = readers_state(settings)
    lake = Lake(settings.lake_dir)
    delivery_before = lake.current_delivery("critic_agg")
    assert delivery_before is not None
    selection = AssetSelection.assets(AssetKey(["bronze", "critic_agg"]), AssetKey(["silver", "critic_scores"]), PUBLISH)
    result = run_selection(settings, selection, raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    text = error.message + (error.cause.message if error.cause else "")
    assert f"provider delivery {critic}: column 'Average Critic Score': " in text
    assert "are not a decimal in [0, 10] (limit 5.0 %), e.g. line 2 '72'" in text
    assert lake.current_delivery("critic_agg") == delivery_before
    with Lake(settings.lake_dir).connect_bronze() as conn:
        assert conn.execute('SELECT count(*), max("Average Critic Score"::DOUBLE) FROM bronze.critic_agg').fetchone() == (17472, 10.0)
    assert not published(result)
    assert readers_state(settings) == before


def test_the_landing_check_reads_values_as_silver_does(sample_run: SampleRun, sample_data: Path):
    """The landing check's readers (DuckDB SQL in movie_assets/providers/contract.py) find
    exactly the values silver's readers (dbt macros) flag as unreadable or out of range in the
    real critic and audience deliveries, from the same declaration (var provider_columns)."""
    everything = ProviderContract(load_provider_contract().rules, max_failed_share=0.0)
    landed = {}
    for delivery in (CRITIC_AGG, AUDIENCE_PULSE):
        parsed = parse_delivery(delivery, sample_data / "providers" / delivery.relative_path)
        failures = column_failures(delivery.name, parsed.rows, everything, date.today())
        landed[delivery.name] = sum(failure.failed for failure in failures)
    with duckdb.connect(str(sample_run.settings.build_duckdb_path), read_only=True) as conn:
        flagged = dict(
            conn.execute(
                "SELECT 'critic_agg', count(*) FROM silver.critic_scores, unnest(quality_flags) AS flag(entry) "
                "WHERE entry NOT LIKE 'title:%' "
                "UNION ALL SELECT 'audience_pulse', count(*) FROM silver.audience_ratings, unnest(quality_flags) AS flag(entry) "
                "WHERE entry NOT LIKE 'title:%'"
            ).fetchall()
        )
    assert landed == flagged
    assert landed["critic_agg"] > 0


def test_a_gold_type_change_fails_the_build_and_leaves_the_table(sample_run: SampleRun, tmp_path: Path):
    """dbt's enforced model contract on gold: a model whose SQL changes a column's type fails
    its build, naming the column and both types, and the table in the build file keeps its
    rows and type (dbt checks the contract before it replaces the table). The build runs
    outside the graph, because the graph builds the repository's project; in the graph,
    ``serving/warehouse_snapshot`` depends on the dbt step, so a failed build publishes nothing."""
    settings = copy_run(sample_run, tmp_path / "run")
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "gold" / "dim_movie.sql"
    source = model.read_text(encoding="utf-8")
    assert "\n    budget_usd,\n" in source
    model.write_text(source.replace("\n    budget_usd,\n", "\n    cast(budget_usd as varchar) as budget_usd,\n"), encoding="utf-8")
    build = settings.build_duckdb_path
    with duckdb.connect(str(build), read_only=True) as conn:
        before = conn.execute("SELECT count(*), typeof(any_value(budget_usd)) FROM gold.dim_movie").fetchone()
    with pytest.raises(subprocess.CalledProcessError) as failed:
        dbt(settings, tmp_path / "dbt", "build", "--select", "dim_movie", project_dir=project)
    log = failed.value.stdout
    assert "budget_usd" in log and "VARCHAR" in log and "BIGINT" in log and "data type mismatch" in log
    with duckdb.connect(str(build), read_only=True) as conn:
        assert conn.execute("SELECT count(*), typeof(any_value(budget_usd)) FROM gold.dim_movie").fetchone() == before
