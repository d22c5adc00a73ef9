"""Atomic file output: the previous file survives a failed write; a new one is shareable."""

import stat
from pathlib import Path

import pytest

from movie_assets.atomic_write import atomic_output


def test_success_replaces_the_file_world_readable(tmp_path: Path):
    target = tmp_path / "reports" / "out.csv"
    with atomic_output(target) as temp_name:
        Path(temp_name).write_text("a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_failure_keeps_the_previous_file_and_leaves_no_temp(tmp_path: Path):
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_output(target) as temp_name:
            Path(temp_name).write_text("half a fi")
            raise RuntimeError("disk full")
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
