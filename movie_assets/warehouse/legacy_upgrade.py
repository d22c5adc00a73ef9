"""Upgrade a warehouse from before published snapshots (the storage tiers).

Before the tiers, runs wrote silver and gold straight into the readers' path
(``MOVIES_DUCKDB_PATH``, a plain DuckDB file). Now runs build in ``MOVIES_BUILD_DUCKDB_PATH`` and
the readers' path is a symlink to the newest audited snapshot (:mod:`movie_assets.serving.publish`).
The build resource (:class:`~movie_assets.warehouse.duckdb_resource.DuckDBWarehouseResource`)
calls :func:`adopt_plain_warehouse` on first use, so an old warehouse keeps its tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path


def adopt_plain_warehouse(readers_path: Path, build_path: Path, log: Callable[[str], None]) -> bool:
    """Move a warehouse from before the storage tiers (a plain file at the readers' path) to
    the build path, with its ``.wal`` file if there is one, so the next publication can put a
    snapshot link in its place; ``log`` gets one line saying what moved where.

    Returns True when a file was moved. Nothing happens when the path is already a link, is
    missing, or the build file exists (then the plain file is left for a person to remove).

    Raises:
        OSError: the move failed (e.g. no permission on the build folder).
    """
    if readers_path.is_symlink() or not readers_path.is_file() or build_path.exists():
        return False
    build_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(readers_path, build_path)
    wal = readers_path.with_name(readers_path.name + ".wal")
    if wal.exists():
        shutil.move(wal, build_path.with_name(build_path.name + ".wal"))
    log(
        f"{readers_path} was a warehouse file from before published snapshots; moved it to the build "
        f"path {build_path}. From now on {readers_path} is a link to the newest audited snapshot."
    )
    return True
