"""Parse the analyst's movie-ID list (``ids/movies.csv``).

The file is a CSV with a header column ``ID`` (Excel-style: may start with a UTF-8 BOM,
CRLF line endings). Row numbers are physical line numbers with the header as row 1, so
an analyst can find a row in a text editor.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

_INTEGER = re.compile(r"[+-]?\d+")


class IdListError(ValueError):
    """The ID list cannot be read at all (missing file, missing ``ID`` header, not UTF-8)."""


@dataclass(frozen=True)
class RejectedId:
    """One row of the ID list that yields no id.

    Attributes:
        raw_value: the cell as written (whitespace kept).
        row_number: physical line number, header = 1.
        reason: ``blank``, ``non-numeric``, ``non-positive`` or ``duplicate``.
    """

    raw_value: str
    row_number: int
    reason: str


@dataclass
class IdList:
    """The parse result: ``ids`` in first-seen order (unique positive ints), ``rejected`` rows."""

    path: Path
    ids: list[int] = field(default_factory=list)
    id_rows: dict[int, int] = field(default_factory=dict)
    rejected: list[RejectedId] = field(default_factory=list)


def parse_id_list(path: Path) -> IdList:
    """Read ``path`` and classify every data row.

    Accepts positive integers with surrounding whitespace. ``550.0`` and ``399S79`` are
    ``non-numeric``; ``0`` and ``-12`` are ``non-positive``; a repeat of an accepted id is
    ``duplicate`` (the first row wins).

    Raises:
        IdListError: the file is missing, not UTF-8, empty, or has no ``ID`` column
            (the message names the file and the header found).
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise IdListError(f"{path}: ID list not found") from None
    except UnicodeDecodeError as exc:
        raise IdListError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if header is None:
        raise IdListError(f"{path}: empty file, expected a header row with column 'ID'")
    names = [name.strip() for name in header]
    if "ID" not in names:
        raise IdListError(f"{path}: expected a header column 'ID', found {header!r}")
    column = names.index("ID")
    result = IdList(path=path)
    for row in reader:
        row_number = reader.line_num
        raw = row[column] if column < len(row) else ""
        value = raw.strip()
        if not value:
            result.rejected.append(RejectedId(raw, row_number, "blank"))
        elif not _INTEGER.fullmatch(value):
            result.rejected.append(RejectedId(raw, row_number, "non-numeric"))
        elif int(value) <= 0:
            result.rejected.append(RejectedId(raw, row_number, "non-positive"))
        elif int(value) in result.id_rows:
            result.rejected.append(RejectedId(raw, row_number, "duplicate"))
        else:
            result.ids.append(int(value))
            result.id_rows[int(value)] = row_number
    return result
