"""The analyst's ID list parses exactly as ../shared/data/ids/EXPECTED.md says."""

from collections import Counter
from pathlib import Path

import pytest

from movie_assets.tmdb.id_list import IdListError, parse_id_list


def test_sample_id_list_matches_expected(sample_data: Path):
    result = parse_id_list(sample_data / "ids" / "movies.csv")
    assert len(result.ids) == 310
    assert len(set(result.ids)) == 310
    # EXPECTED.md: blank 3, non-numeric 3 + the decimal, non-positive 2, duplicate 5.
    assert Counter(r.reason for r in result.rejected) == {
        "blank": 3,
        "non-numeric": 4,
        "non-positive": 2,
        "duplicate": 5,
    }
    by_row = {r.row_number: r for r in result.rejected}
    assert by_row[290].raw_value == "399S79" and by_row[290].reason == "non-numeric"
    assert by_row[155].raw_value == "550.0" and by_row[155].reason == "non-numeric"
    assert by_row[221].reason == "non-positive"
    assert by_row[235].raw_value == "   " and by_row[235].reason == "blank"
    assert by_row[254].raw_value == " 20352" and by_row[254].reason == "duplicate"
    # Padded ids are accepted after trimming, on their own rows.
    assert result.id_rows[20352] == 64 and result.id_rows[6479] == 230 and result.id_rows[100042] == 250


def test_missing_header_names_file_and_header(tmp_path: Path):
    path = tmp_path / "ids.csv"
    path.write_text("movie\n550\n", encoding="utf-8")
    with pytest.raises(IdListError, match=r"ids\.csv: expected a header column 'ID', found \['movie'\]"):
        parse_id_list(path)


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(IdListError, match="nope.csv: ID list not found"):
        parse_id_list(tmp_path / "nope.csv")


def test_bom_crlf_whitespace_and_every_reason(tmp_path: Path):
    path = tmp_path / "movies.csv"
    rows = ["ID", " 550 ", "", "550", "550.0", "399S79", "0", "-12", "\t27205\t"]
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    result = parse_id_list(path)
    assert result.ids == [550, 27205]
    assert result.id_rows == {550: 2, 27205: 9}
    assert [(r.raw_value, r.row_number, r.reason) for r in result.rejected] == [
        ("", 3, "blank"),
        ("550", 4, "duplicate"),
        ("550.0", 5, "non-numeric"),
        ("399S79", 6, "non-numeric"),
        ("0", 7, "non-positive"),
        ("-12", 8, "non-positive"),
    ]


def test_header_found_is_shown_even_with_a_bom(tmp_path: Path):
    path = tmp_path / "ids.csv"
    path.write_bytes("\ufeffmovie_id;title\r\n550;x\r\n".encode("utf-8"))
    with pytest.raises(IdListError, match=r"ids\.csv: expected a header column 'ID', found \['movie_id;title'\]"):
        parse_id_list(path)
