"""Bronze provider loads: real sample files read by DuckDB's readers into a real lake folder
(Parquet), and every bad-delivery case."""

import shutil
from pathlib import Path

import duckdb
import pytest

from movie_assets.providers.deliveries import (
    AUDIENCE_PULSE,
    BOX_OFFICE_INTERNATIONAL,
    CRITIC_AGG,
    DELIVERIES,
    DeliveryError,
    land_delivery,
)
from movie_assets.warehouse.lake import Lake

EXPECTED_ROWS = {
    "bronze.critic_agg": 17472,
    "bronze.audience_pulse": 988,
    "bronze.box_office_domestic": 3201,
    "bronze.box_office_international": 3201,
    "bronze.box_office_financials": 3201,
}


@pytest.fixture
def providers_dir(tmp_path: Path, sample_data: Path) -> Path:
    """A writable copy of the sample provider folder, so a test can break one delivery."""
    target = tmp_path / "providers"
    shutil.copytree(sample_data / "providers", target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def query(lake: Lake, sql: str) -> list[tuple]:
    """Rows of ``sql`` over the lake's current deliveries, through a fresh in-memory
    connection, as a reader after the load would see them."""
    with lake.connect_bronze() as conn:
        return conn.execute(sql).fetchall()


def snapshot(lake: Lake, table: str):
    return query(lake, f"SELECT count(*), min(file_sha256), max(loaded_at) FROM {table}")[0]


def test_every_delivery_loads_with_audit_columns(lake: Lake, providers_dir: Path):
    for delivery in DELIVERIES:
        result = land_delivery(lake, delivery, providers_dir)
        assert (result.status, result.rows) == ("loaded", EXPECTED_ROWS[delivery.table])
    first = query(
        lake,
        'SELECT "Movie Title", "Release Year", "Box Office (USD)", source_file, source_row_number '
        "FROM bronze.critic_agg ORDER BY source_row_number LIMIT 1",
    )
    assert first == [("We Live in Public", "2009", "41711", "providers/critic_agg.csv", 1)]
    # Empty cells are NULL text, not empty strings.
    assert query(lake, 'SELECT "Metascore" FROM bronze.critic_agg WHERE source_row_number = 1') == [(None,)]
    avatar = query(
        lake,
        "SELECT imdb_votes, ratings -> '$[1]' ->> '$.value', json_valid(ratings) "
        "FROM bronze.audience_pulse WHERE title = 'Avatar'",
    )
    assert avatar == [("1,064,516", "82%", True)]
    international = 'SELECT count(*) FROM bronze.box_office_international WHERE "International Gross" IS NOT NULL'
    assert query(lake, international) == [(0,)]


def test_loading_the_same_file_twice_changes_nothing(lake: Lake, providers_dir: Path):
    land_delivery(lake, CRITIC_AGG, providers_dir)
    before = query(lake, "SELECT * FROM bronze.critic_agg ORDER BY source_row_number")
    result = land_delivery(lake, CRITIC_AGG, providers_dir)
    assert (result.status, result.rows) == ("unchanged", 17472)
    assert query(lake, "SELECT * FROM bronze.critic_agg ORDER BY source_row_number") == before


def test_a_new_delivery_replaces_the_previous_one(lake: Lake, providers_dir: Path):
    land_delivery(lake, CRITIC_AGG, providers_dir)
    path = providers_dir / CRITIC_AGG.relative_path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:11]), encoding="utf-8")
    result = land_delivery(lake, CRITIC_AGG, providers_dir)
    assert (result.status, result.rows) == ("loaded", 10)
    assert query(lake, "SELECT count(*), count(DISTINCT file_sha256) FROM bronze.critic_agg") == [(10, 1)]


def test_a_delivery_may_carry_international_gross_instead_of_worldwide(lake: Lake, providers_dir: Path):
    path = providers_dir / BOX_OFFICE_INTERNATIONAL.relative_path
    path.write_text("Title,Release Date,International Gross\nThe Land Girls,Jun 12 1998,0\n", encoding="utf-8")
    land_delivery(lake, BOX_OFFICE_INTERNATIONAL, providers_dir)
    assert query(lake, 'SELECT "Worldwide Gross", "International Gross" FROM bronze.box_office_international') == [(None, "0")]


BAD_CSV = {
    "missing file": (None, "file not found"),
    "empty file": (b"", "the file is empty"),
    "header only": (b"Movie Title,Release Year,IMDb ID,Tomatometer,Average Critic Score,Metascore\r\n", "no data rows"),
    "not UTF-8": (
        "Movie Title,Release Year,IMDb ID,Tomatometer,Average Critic Score,Metascore\nAmélie,2001,tt0211915,89,8,69\n".encode("latin-1"),
        "not UTF-8: byte 0xe9 at offset 78 (line 2)",
    ),
    "missing columns": (
        b"Movie Title,Year,IMDb ID,Tomatometer\nAlien,1979,tt0078748,97\n",
        "missing required columns ['Release Year', 'Average Critic Score', 'Metascore']",
    ),
    "truncated row": (
        b"Movie Title,Release Year,IMDb ID,Tomatometer,Average Critic Score,Metascore\nAlien,1979,tt0078748,97,8.9,89\nAliens,19",
        "line 3 (missing columns at column 'IMDb ID'): Expected Number of Columns: 6 Found: 2",
    ),
    "unterminated quote": (
        b'Movie Title,Release Year,IMDb ID,Tomatometer,Average Critic Score,Metascore\n"Alien,1979,tt0078748,97,8.9,89\n',
        "malformed CSV",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_delivery_is_refused_and_the_previous_load_stays(lake: Lake, providers_dir: Path, case: str):
    land_delivery(lake, CRITIC_AGG, providers_dir)
    before = snapshot(lake, "bronze.critic_agg")
    content, message = BAD_CSV[case]
    path = providers_dir / CRITIC_AGG.relative_path
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    with pytest.raises(DeliveryError) as error:
        land_delivery(lake, CRITIC_AGG, providers_dir)
    assert str(path) in str(error.value)
    assert message in str(error.value)
    assert snapshot(lake, "bronze.critic_agg") == before == (17472, before[1], before[2])


def test_missing_columns_error_lists_expected_and_found(lake: Lake, providers_dir: Path):
    path = providers_dir / CRITIC_AGG.relative_path
    path.write_bytes(b"Movie Title,Year\nAlien,1979\n")
    with pytest.raises(DeliveryError, match=r"expected \['Movie Title', 'Release Year', .*found \['Movie Title', 'Year'\]"):
        land_delivery(lake, CRITIC_AGG, providers_dir)


BAD_JSON = {
    "truncated JSON": (b'[{"title": "Avatar", "year": "2009"', "invalid JSON (truncated?): Malformed JSON"),
    "invalid JSON": (b"[{'title': 'Avatar'}]", "invalid JSON (truncated?): Malformed JSON"),
    "object, not array": (b'{"title": "Avatar"}', "the JSON document is not an array; expected an array of objects"),
    "array of non-objects": (b'[{"title": "Avatar"}, "Titanic"]', "array element 2 is a varchar, expected an object"),
    "empty array": (b"[]", "the JSON array is empty"),
    "missing keys": (
        b'[{"title": "Avatar", "year": "2009", "imdb_id": "tt0499549"}]',
        "missing required columns ['imdb_rating', 'imdb_votes', 'ratings']",
    ),
    "not UTF-8": (b'[{"title": "Am\xe9lie"}]', "not UTF-8: byte 0xe9 at offset 14 (line 1)"),
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_bad_json_delivery_is_refused_and_the_previous_load_stays(lake: Lake, providers_dir: Path, case: str):
    land_delivery(lake, AUDIENCE_PULSE, providers_dir)
    before = snapshot(lake, "bronze.audience_pulse")
    content, message = BAD_JSON[case]
    path = providers_dir / AUDIENCE_PULSE.relative_path
    path.write_bytes(content)
    with pytest.raises(DeliveryError) as error:
        land_delivery(lake, AUDIENCE_PULSE, providers_dir)
    assert str(path) in str(error.value)
    assert message in str(error.value)
    assert snapshot(lake, "bronze.audience_pulse") == before
    assert before[0] == 988


def test_asset_run_fails_with_the_file_named_and_keeps_the_previous_load(
    lake: Lake, tmp_path: Path, providers_dir: Path
):
    from dagster import materialize

    from movie_assets.paths import PipelinePaths
    from movie_assets.providers.assets import critic_agg
    from movie_assets.warehouse.lake import LakeResource

    resources = {
        "lake": LakeResource(root=str(lake.root)),
        "paths": PipelinePaths(input_dir=str(providers_dir.parent), reports_dir=str(tmp_path / "reports")),
    }
    first = materialize([critic_agg], resources=resources)
    assert first.success
    metadata = first.asset_materializations_for_node("bronze__critic_agg")[0].metadata
    assert (metadata["status"].value, metadata["dagster/row_count"].value) == ("loaded", 17472)
    assert materialize([critic_agg], resources=resources).asset_materializations_for_node(
        "bronze__critic_agg"
    )[0].metadata["status"].value == "unchanged"

    (providers_dir / "critic_agg.csv").write_bytes(b"Movie Title\nAlien\n")
    failed = materialize([critic_agg], resources=resources, raise_on_error=False)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data.error
    text = failure.message + (failure.cause.message if failure.cause else "")
    assert "critic_agg.csv: missing required columns ['Release Year'" in text
    assert query(lake, "SELECT count(*) FROM bronze.critic_agg") == [(17472,)]
