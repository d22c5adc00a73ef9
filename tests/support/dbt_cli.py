"""``dbt`` as a subprocess on a test run's build file and lake, for tests that build models
outside the Dagster graph (order of days, engines, a changed project)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from movie_assets.settings import Settings
from movie_assets.transform.project import DBT_PROJECT_DIR, child_environment, dbt_executable


def dbt(settings: Settings, work: Path, *args: str, window: dict[str, str] | None = None, project_dir: Path = DBT_PROJECT_DIR) -> None:
    """``dbt <args>`` on ``settings``' build file and lake, with the partition ``window``
    (``{"min_date", "max_date"}``, as the Dagster steps give it) if given, on
    ``project_dir`` (default: the repository's project); target and logs under ``work`` (the
    project's own target holds the manifest Dagster reads).

    Raises:
        subprocess.CalledProcessError: dbt failed (its ``stdout`` holds dbt's log, as text).
    """
    dbt_vars = json.dumps(settings.dbt_profile_vars())
    subprocess.run(
        [
            dbt_executable(),
            *args,
            "--vars",
            dbt_vars,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=project_dir,
        env=child_environment(window),
        check=True,
        capture_output=True,
        text=True,
    )
