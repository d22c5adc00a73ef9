"""Bronze provider loads: the real sample files read by DuckDB's readers into a real lake
folder (Parquet), read back with DuckDB, and every bad-delivery case."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from dagster import materialize

from movie_assets.paths import PipelinePaths
from movie_assets.providers.assets import critic_agg
from movie_assets.providers.contract import load_provider_contract
from movie_assets.providers.deliveries import (
    AUDIENCE_PULSE,
    BOX_OFFICE_FINANCIALS,
    BOX_OFFICE_INTERNATIONAL,
    CRITIC_AGG,
    DELIVERIES,
    Delivery,
    DeliveryError,
    land_delivery,
)
from movie_assets.warehouse.lake import Lake, LakeResource

EXPECTED_ROWS = {
    "bronze.critic_agg": 17472,
    "bronze.audience_pulse": 988,
    "bronze.box_office_domestic": 3201,
    "bronze.box_office_international": 3201,
    "bronze.box_office_financials": 3201,
}


@pytest.fixture
def providers_dir(tmp_path: Path, sample_data: Path) -> Path:
    """A provider folder whose files are links to the sample deliveries (read in place, never
    copied); :func:`deliver` replaces one link by a file of its own."""
    target = tmp_path / "providers"
    for delivery in DELIVERIES:
        link = target / delivery.relative_path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(sample_data / "providers" / delivery.relative_path)
    return target


def deliver(providers_dir: Path, delivery: Delivery, content: bytes) -> Path:
    """Make ``content`` the delivery's file; the link goes first, so the shared sample file
    behind it is never written."""
    path = providers_dir / delivery.relative_path
    path.unlink()
    path.write_bytes(content)
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def query(lake: Lake, sql: str) -> list[tuple]:
    """Rows of ``sql`` over the lake's current deliveries (``bronze.<table>`` views over
    ``read_parquet(current_file)``), through a fresh in-memory connection, as a reader after
    the load would see them."""
    with lake.connect_bronze() as conn:
        return conn.execute(sql).fetchall()


def snapshot(lake: Lake, delivery: Delivery):
    """What a refused delivery must leave alone: the current sha256, the delivery folders,
    and the row count, sha256 and load time of the current file."""
    folders = sorted(p.name for p in lake.table_dir(delivery.name).glob("delivery=*"))
    return lake.current_delivery(delivery.name), folders, query(lake, f"SELECT count(*), min(file_sha256), max(loaded_at) FROM {delivery.table}")[0]


def test_every_delivery_loads_with_audit_columns(lake: Lake, providers_dir: Path):
    for delivery in DELIVERIES:
        result = land_delivery(lake, delivery, providers_dir)
        assert (result.status, result.rows) == ("loaded", EXPECTED_ROWS[delivery.table])
        assert lake.current_file(delivery.name).resolve() == (lake.table_dir(delivery.name) / f"delivery={result.sha256}" / "data.parquet")
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
        "SELECT imdb_votes, ratings -> '$[1]' ->> '$.value', json_valid(ratings) FROM bronze.audience_pulse WHERE title = 'Avatar'",
    )
    assert avatar == [("1,064,516", "82%", True)]
    international = 'SELECT count(*) FROM bronze.box_office_international WHERE "International Gross" IS NOT NULL'
    assert query(lake, international) == [(0,)]
    types = dict(query(lake, "SELECT column_name, column_type FROM (DESCRIBE bronze.critic_agg)"))
    assert (types["Tomatometer"], types["source_row_number"], types["loaded_at"]) == ("VARCHAR", "BIGINT", "TIMESTAMP WITH TIME ZONE")


def test_source_row_number_follows_the_file_order(lake: Lake, providers_dir: Path, sample_data: Path):
    # Python's own readers are the reference for the order of the sample files.
    with (sample_data / "providers" / CRITIC_AGG.relative_path).open(encoding="utf-8", newline="") as handle:
        expected_csv = [(row["IMDb ID"] or None, row["Movie Title"]) for row in csv.DictReader(handle)]
    elements = json.loads((sample_data / "providers" / AUDIENCE_PULSE.relative_path).read_text(encoding="utf-8"))
    expected_json = [(element["imdb_id"], element["title"]) for element in elements]
    land_delivery(lake, CRITIC_AGG, providers_dir)
    land_delivery(lake, AUDIENCE_PULSE, providers_dir)
    loaded_csv = query(lake, 'SELECT "IMDb ID", "Movie Title" FROM bronze.critic_agg ORDER BY source_row_number')
    loaded_json = query(lake, "SELECT imdb_id, title FROM bronze.audience_pulse ORDER BY source_row_number")
    assert loaded_csv == expected_csv
    assert loaded_json == expected_json


def test_loading_the_same_file_twice_changes_nothing(lake: Lake, providers_dir: Path):
    land_delivery(lake, CRITIC_AGG, providers_dir)
    before = query(lake, "SELECT * FROM bronze.critic_agg ORDER BY source_row_number")
    data = lake.current_file(CRITIC_AGG.name).resolve()
    written = data.stat()
    result = land_delivery(lake, CRITIC_AGG, providers_dir)
    assert (result.status, result.rows) == ("unchanged", 17472)
    # Not rewritten: same file, same inode and modification time, loaded_at included.
    assert lake.current_file(CRITIC_AGG.name).resolve() == data
    assert (data.stat().st_ino, data.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert query(lake, "SELECT * FROM bronze.critic_agg ORDER BY source_row_number") == before


def test_a_new_delivery_replaces_the_previous_one(lake: Lake, providers_dir: Path, sample_data: Path):
    first = land_delivery(lake, CRITIC_AGG, providers_dir)
    lines = (sample_data / "providers" / CRITIC_AGG.relative_path).read_bytes().splitlines(keepends=True)
    deliver(providers_dir, CRITIC_AGG, b"".join(lines[:11]))
    result = land_delivery(lake, CRITIC_AGG, providers_dir)
    assert (result.status, result.rows) == ("loaded", 10)
    assert result.sha256 != first.sha256
    assert lake.current_delivery(CRITIC_AGG.name) == result.sha256
    assert query(lake, "SELECT count(*), min(file_sha256), max(file_sha256) FROM bronze.critic_agg") == [(10, result.sha256, result.sha256)]
    # The previous delivery stays on disk beside the new one.
    assert (lake.table_dir(CRITIC_AGG.name) / f"delivery={first.sha256}" / "data.parquet").is_file()


def test_a_delivery_may_carry_international_gross_instead_of_worldwide(lake: Lake, providers_dir: Path):
    deliver(providers_dir, BOX_OFFICE_INTERNATIONAL, b"Title,Release Date,International Gross\nThe Land Girls,Jun 12 1998,0\n")
    land_delivery(lake, BOX_OFFICE_INTERNATIONAL, providers_dir)
    assert query(lake, 'SELECT "Worldwide Gross", "International Gross" FROM bronze.box_office_international') == [(None, "0")]


HEADER = b"Movie Title,Release Year,IMDb ID,Tomatometer,Average Critic Score,Metascore\n"
BAD_CSV = {
    "missing file": (None, "file not found"),
    "empty file": (b"", "the file is empty"),
    "blank file": (b" \r\n\n", "the file is empty"),
    "header only": (HEADER.replace(b"\n", b"\r\n"), "the file has a header but no data rows"),
    "not UTF-8": (
        HEADER + "Amélie,2001,tt0211915,89,8,69\n".encode("latin-1"),
        "not UTF-8: byte 0xe9 at offset 78 (line 2)",
    ),
    "duplicated header names": (
        b"Movie Title,Release Year,IMDb ID,Tomatometer,Average Critic Score,Metascore,Metascore\nA,1,t,1,1,1,1\n",
        "duplicated column names ['Metascore'] in the header",
    ),
    "unterminated quote in the header": (
        b'"Movie Title,Release Year,IMDb ID,Tomatometer,Average Critic Score,Metascore\nAlien,1979,tt0078748,97,8.9,89\n',
        "line 1: the header row is not valid CSV (unterminated quote?)",
    ),
    "missing columns": (
        b"Movie Title,Year,IMDb ID,Tomatometer\nAlien,1979,tt0078748,97\n",
        "missing required columns ['Release Year', 'Average Critic Score', 'Metascore']",
    ),
    "truncated row": (
        HEADER + b"Alien,1979,tt0078748,97,8.9,89\nAliens,19",
        "line 3 (missing columns at column 'IMDb ID'): Expected Number of Columns: 6 Found: 2",
    ),
    "too many values": (
        HEADER + b"Alien,1979,tt0078748,97,8.9,89,extra\n",
        "line 2 (too many columns): Expected Number of Columns: 6 Found: 7",
    ),
    # The quote runs to the end of the file: DuckDB's single-threaded reader (parallel = false)
    # drops such a row without recording a reject.
    "unterminated quote": (
        HEADER + b'Alien,1979,tt0078748,97,8.9,89\n"Aliens,1986,tt0090605,98,9.0,84\n',
        "line 3 (unquoted value at column 'Movie Title'): Value with unterminated quote found.",
    ),
    "two bad lines": (
        HEADER + b"Alien,1979\nAliens,1986,tt0090605,98,9.0,84\nAlien 3,1992\n",
        "line 2 (missing columns at column 'IMDb ID'): Expected Number of Columns: 6 Found: 2; 2 lines rejected in all",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_delivery_is_refused_and_the_previous_load_stays(lake: Lake, providers_dir: Path, case: str):
    land_delivery(lake, CRITIC_AGG, providers_dir)
    before = snapshot(lake, CRITIC_AGG)
    content, message = BAD_CSV[case]
    path = providers_dir / CRITIC_AGG.relative_path
    if content is None:
        path.unlink()
    else:
        deliver(providers_dir, CRITIC_AGG, content)
    with pytest.raises(DeliveryError) as error:
        land_delivery(lake, CRITIC_AGG, providers_dir)
    assert str(error.value).startswith(f"provider delivery {path}: ")
    assert message in str(error.value)
    assert snapshot(lake, CRITIC_AGG) == before
    assert before[2][0] == 17472


def test_an_unterminated_quote_near_the_end_of_a_large_file_is_refused(lake: Lake, providers_dir: Path, sample_data: Path):
    # The line is counted across the whole file, not within the reader's chunk of rows.
    lines = (sample_data / "providers" / CRITIC_AGG.relative_path).read_bytes().splitlines(keepends=True)
    lines[17468] = b'"' + lines[17468]
    deliver(providers_dir, CRITIC_AGG, b"".join(lines))
    with pytest.raises(DeliveryError, match=r"line 17469 \(unquoted value at column 'Movie Title'\)"):
        land_delivery(lake, CRITIC_AGG, providers_dir)
    assert lake.current_delivery(CRITIC_AGG.name) is None


def test_missing_columns_error_lists_expected_and_found(lake: Lake, providers_dir: Path):
    deliver(providers_dir, CRITIC_AGG, b"Movie Title,Year\nAlien,1979\n")
    with pytest.raises(DeliveryError, match=r"expected \['Movie Title', 'Release Year', .*found \['Movie Title', 'Year'\]"):
        land_delivery(lake, CRITIC_AGG, providers_dir)


BAD_JSON = {
    "empty file": (b"", "the file is empty"),
    "truncated JSON": (b'[{"title": "Avatar", "year": "2009"', "invalid JSON (truncated?): Malformed JSON"),
    "invalid JSON": (b"[{'title': 'Avatar'}]", "invalid JSON (truncated?): Malformed JSON"),
    "object, not array": (b'{"title": "Avatar"}', "the JSON document is not an array; expected an array of objects"),
    "array of non-objects": (b'[{"title": "Avatar"}, "Titanic"]', "array element 2 is a string, expected an object"),
    "null element": (b'[{"title": "Avatar"}, null]', "array element 2 is null, expected an object"),
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
    before = snapshot(lake, AUDIENCE_PULSE)
    content, message = BAD_JSON[case]
    path = deliver(providers_dir, AUDIENCE_PULSE, content)
    with pytest.raises(DeliveryError) as error:
        land_delivery(lake, AUDIENCE_PULSE, providers_dir)
    assert str(error.value).startswith(f"provider delivery {path}: ")
    assert message in str(error.value)
    assert snapshot(lake, AUDIENCE_PULSE) == before
    assert before[2][0] == 988


def test_asset_run_fails_with_the_file_named_and_keeps_the_previous_load(lake: Lake, tmp_path: Path, providers_dir: Path):
    resources = {
        "lake": LakeResource(root=str(lake.root)),
        "paths": PipelinePaths(input_dir=str(providers_dir.parent), reports_dir=str(tmp_path / "reports")),
    }
    first = materialize([critic_agg], resources=resources)
    assert first.success
    metadata = first.asset_materializations_for_node("bronze__critic_agg")[0].metadata
    assert (metadata["status"].value, metadata["dagster/row_count"].value) == ("loaded", 17472)
    sha256 = lake.current_delivery(CRITIC_AGG.name)
    assert metadata["file_sha256"].value == sha256
    assert (
        materialize([critic_agg], resources=resources).asset_materializations_for_node("bronze__critic_agg")[0].metadata["status"].value
        == "unchanged"
    )

    deliver(providers_dir, CRITIC_AGG, b"Movie Title\nAlien\n")
    failed = materialize([critic_agg], resources=resources, raise_on_error=False)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data.error
    text = failure.message + (failure.cause.message if failure.cause else "")
    assert "critic_agg.csv: missing required columns ['Release Year'" in text
    assert lake.current_delivery(CRITIC_AGG.name) == sha256
    assert query(lake, "SELECT count(*) FROM bronze.critic_agg") == [(17472,)]


# The provider contract: types and ranges from dbt var provider_columns, the share limit from
# provider_max_flagged_share (dbt_project/dbt_project.yml).


def rewritten_csv(sample_data: Path, delivery: Delivery, change) -> bytes:
    """The sample delivery with ``change(row, index)`` applied to every data row (a dict by
    header name, index 0-based), written back as CSV."""
    with (sample_data / "providers" / delivery.relative_path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        names = reader.fieldnames
    for index, row in enumerate(rows):
        change(row, index)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_every_declared_column_is_a_column_of_its_delivery():
    contract = load_provider_contract()
    by_name = {delivery.name: delivery for delivery in DELIVERIES}
    assert set(contract.rules) == set(by_name)
    for table, rules in contract.rules.items():
        for rule in rules:
            assert rule.source_column in by_name[table].columns, (table, rule.column)
            assert rule.type in {"whole_number", "decimal", "year", "date", "imdb_id"}
    assert 0 < contract.max_failed_share < 1


def test_a_score_delivered_on_another_scale_is_refused_and_the_previous_kept(lake: Lake, providers_dir: Path, sample_data: Path):
    land_delivery(lake, CRITIC_AGG, providers_dir)
    before = snapshot(lake, CRITIC_AGG)

    def to_percent(row: dict, index: int) -> None:
        if row["Average Critic Score"]:
            row["Average Critic Score"] = f"{float(row['Average Critic Score']) * 10:g}"

    path = deliver(providers_dir, CRITIC_AGG, rewritten_csv(sample_data, CRITIC_AGG, to_percent))
    with pytest.raises(DeliveryError) as error:
        land_delivery(lake, CRITIC_AGG, providers_dir)
    message = str(error.value)
    assert message.startswith(f"provider delivery {path}: column 'Average Critic Score': ")
    # A score of 1.0 or less would stay in range after the change; the others fail.
    assert re.search(
        r": \d+ of \d+ non-blank values \((9\d|100)\.\d %\) are not a decimal in \[0, 10\] \(limit 5.0 %\), "
        r"e\.g\. line 2 '72', line 3 '50', line 4 '68'$",
        message,
    )
    assert "Tomatometer" not in message
    assert snapshot(lake, CRITIC_AGG) == before


def test_unreadable_values_above_the_share_are_refused_with_examples(lake: Lake, providers_dir: Path, sample_data: Path):
    def text_runtime(row: dict, index: int) -> None:
        if index % 10 == 0 and row["Running Time min"]:
            row["Running Time min"] = f"{row['Running Time min']} min"

    path = deliver(providers_dir, BOX_OFFICE_FINANCIALS, rewritten_csv(sample_data, BOX_OFFICE_FINANCIALS, text_runtime))
    with pytest.raises(DeliveryError) as error:
        land_delivery(lake, BOX_OFFICE_FINANCIALS, providers_dir)
    message = str(error.value)
    assert message.startswith(f"provider delivery {path}: column 'Running Time min': ")
    assert "are not a whole number in [1, 1000] (limit 5.0 %), e.g. line 152 '109 min'" in message
    examples = message.split("e.g. ", 1)[1].split(", ")
    assert len(examples) == 3 and all(example.endswith(" min'") for example in examples)
    assert lake.current_delivery(BOX_OFFICE_FINANCIALS.name) is None


def test_failures_within_the_share_are_accepted(lake: Lake, providers_dir: Path, sample_data: Path):
    # 1 % of the running times unreadable: silver flags them, the delivery still lands.
    def text_runtime(row: dict, index: int) -> None:
        if index % 100 == 0 and row["Running Time min"]:
            row["Running Time min"] = "n/a min"

    deliver(providers_dir, BOX_OFFICE_FINANCIALS, rewritten_csv(sample_data, BOX_OFFICE_FINANCIALS, text_runtime))
    assert land_delivery(lake, BOX_OFFICE_FINANCIALS, providers_dir).status == "loaded"


def test_a_json_ratings_entry_on_another_scale_is_refused(lake: Lake, providers_dir: Path, sample_data: Path):
    land_delivery(lake, AUDIENCE_PULSE, providers_dir)
    before = snapshot(lake, AUDIENCE_PULSE)
    elements = json.loads((sample_data / "providers" / AUDIENCE_PULSE.relative_path).read_text(encoding="utf-8"))
    for element in elements:
        for rating in element["ratings"]:
            if rating["source"] == "Rotten Tomatoes":
                rating["value"] = f"{int(rating['value'].rstrip('%')) / 10:g}/10"
        element["imdb_votes"] = "many"
    path = deliver(providers_dir, AUDIENCE_PULSE, json.dumps(elements).encode("utf-8"))
    with pytest.raises(DeliveryError) as error:
        land_delivery(lake, AUDIENCE_PULSE, providers_dir)
    message = str(error.value)
    assert message.startswith(f"provider delivery {path}: column 'imdb_votes': 988 of 988 non-blank values (100.0 %)")
    assert "e.g. array element 1 'many', array element 2 'many', array element 3 'many'" in message
    assert "; column 'ratings[Rotten Tomatoes]': " in message and "are not a decimal in [0, 100]" in message
    assert snapshot(lake, AUDIENCE_PULSE) == before


def test_blank_and_na_values_are_absent_not_failures(lake: Lake, providers_dir: Path):
    deliver(
        providers_dir,
        CRITIC_AGG,
        HEADER + b"Alien,1979,tt0078748,N/A, ,\nAliens,1986,,98,9.0,84\n",
    )
    assert land_delivery(lake, CRITIC_AGG, providers_dir).status == "loaded"
