"""Retention of dbt's per-invocation artifact folders (``dbt_project/target/<engine>/<op>-<run>-<id>``,
beside the engine's prepared manifest):
a pipeline that runs every day must not fill the disk with them."""

import os

import pytest

from movie_assets.transform.project import prune_invocation_folders


def make_folder(parent, name, written_at, log_written_at=None):
    folder = parent / name
    folder.mkdir()
    if log_written_at is not None:
        log = folder / "dbt.log"
        log.write_text("x")
        os.utime(log, (log_written_at, log_written_at))
    os.utime(folder, (written_at, written_at))
    return folder


def test_keeps_the_newest_folders_of_the_same_asset_and_nothing_else(tmp_path):
    old = [make_folder(tmp_path, f"movie_dbt_models-run{i:04d}-abc{i:04d}", 1_000 + i) for i in range(5)]
    newest = make_folder(tmp_path, "movie_dbt_models-run9999-fffffff", 2_000)
    other_asset = make_folder(tmp_path, "movie_dbt_daily_gold-run0000-0000000", 10)
    prepared = [tmp_path / name for name in ("manifest.json", "partial_parse.msgpack", "parsed_with_vars.json")]
    for path in prepared:
        path.write_text("{}")
    contextless = make_folder(tmp_path, "abc1234", 10)

    deleted = prune_invocation_folders(newest, keep=3)

    assert sorted(deleted) == sorted(old[:3])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(path.name for path in [*old[3:], newest, other_asset, *prepared, contextless])


def test_a_folder_whose_log_is_still_written_counts_as_recent(tmp_path):
    in_use = make_folder(tmp_path, "movie_dbt_models-runaaaa-aaaaaaa", 1_000, log_written_at=3_000)
    finished = make_folder(tmp_path, "movie_dbt_models-runbbbb-bbbbbbb", 2_000, log_written_at=2_000)
    newest = make_folder(tmp_path, "movie_dbt_models-runcccc-ccccccc", 2_500)

    assert prune_invocation_folders(newest, keep=2) == [finished]
    assert in_use.exists()


def test_keep_below_one_is_refused(tmp_path):
    newest = make_folder(tmp_path, "movie_dbt_models-run0000-0000000", 1_000)
    with pytest.raises(ValueError, match="at least 1"):
        prune_invocation_folders(newest, keep=0)
    assert newest.exists()
