"""The dbt project (``dbt_project/``), its manifest and the ``dbt`` resource.

The manifest (``dbt_project/target/<engine>/manifest.json``, one per ``MOVIES_ENGINE``: the
engines' configurations differ) is prepared ahead of time, never on
import: by ``make install`` / ``make run`` (``python -m movie_assets.transform.project``), by
the test session, and by ``dagster dev`` through dagster-dbt's ``prepare_if_dev``.

dbt runs in a child process and is told where everything is: ``profiles.yml`` renders
``var('duckdb_path')`` (the build file) and ``var('memory_limit')``, and the bronze sources
``var('lake_dir')``, all passed as ``--vars`` from
:meth:`~movie_assets.settings.Settings.dbt_profile_vars` on every invocation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version
from pydantic import Field

from movie_assets.settings import REPO_ROOT, InvalidSettings, Settings, load_settings_or_explain

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# Recorded beside the manifest: the vars it was parsed with. dbt discards its partial-parse
# state (seconds of re-parsing in every run) when a run's vars differ from the parse's.
PARSED_WITH = "parsed_with_vars.json"


def dbt_executable() -> str:
    """The ``dbt`` installed beside this interpreter (the project venv), else ``dbt`` on PATH.

    ``.venv/bin/python -m ...`` runs without the venv's ``bin`` on PATH.
    """
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def _newest_source_mtime(project_dir: Path) -> float:
    sources = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend((project_dir / folder).rglob("*.*"))
    return max(path.stat().st_mtime for path in sources if path.is_file())


def manifest_is_current(project: DbtProject, settings: Settings) -> bool:
    """True when the manifest exists, is newer than every dbt source file and was parsed
    with ``settings``' profile vars."""
    manifest = project.manifest_path
    stamp = manifest.with_name(PARSED_WITH)
    return (
        manifest.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime(project.project_dir)
        and stamp.exists()
        and stamp.read_text() == json.dumps(settings.dbt_profile_vars(), sort_keys=True)
    )


def prepare_manifest(project: DbtProject, settings: Settings, *, force: bool = False) -> bool:
    """Run ``dbt parse`` for ``settings`` unless the manifest is current (a few stat calls).

    Returns:
        True when dbt parse ran.

    Raises:
        subprocess.CalledProcessError: ``dbt parse`` failed (its output names the file).
    """
    if not force and manifest_is_current(project, settings):
        return False
    profile_vars = json.dumps(settings.dbt_profile_vars(), sort_keys=True)
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--vars", profile_vars, "--target-path", str(project.target_path),
         "--project-dir", str(project.project_dir), "--profiles-dir", str(project.profiles_dir)],
        check=True,
    )
    project.manifest_path.with_name(PARSED_WITH).write_text(profile_vars)
    return True


def build_dbt_project(settings: Settings) -> DbtProject:
    """The ``dbt_project/`` folder as a dagster-dbt ``DbtProject`` (profiles in the same folder),
    its manifest in ``target/<engine>``; ``dagster dev`` re-parses it on every code load with
    ``settings``' profile vars."""
    profile_vars = json.dumps(settings.dbt_profile_vars(), sort_keys=True)
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=Path("target") / settings.engine,
        prepare_project_cli_args=["parse", "--quiet", "--vars", profile_vars],
    )


class WarehouseDbtCliResource(DbtCliResource):
    """The ``dbt`` resource: ``DbtCliResource`` that passes the warehouse path and memory limit
    as dbt vars, without two start-up costs this project gets nothing from.

    Before a ``dbt`` command, dagster-dbt 0.29 runs ``dbt --version`` in a subprocess (once
    per resource instance, so once a run) and builds a dbt adapter in this process (importing
    dbt and loading its 500+ macros) that only ``fetch_column_metadata`` and
    ``fetch_row_counts`` use; this project reads table metadata from DuckDB itself
    (:func:`movie_assets.warehouse.metadata.table_metadata`). Together about 7 s of a daily
    run on 2 cores (bench/README.md, "End to end").

    Both hooks are private methods of the pinned dagster-dbt: ``tests/integration/test_pipeline.py``
    checks that they still exist, so an upgrade that renames them fails there rather than
    silently bringing the cost back.

    Attributes:
        profile_vars: JSON object of the vars every invocation gets
            (:meth:`~movie_assets.settings.Settings.dbt_profile_vars`): the engine, the build
            file, the lake, the Spark master and warehouse.
        engine: ``duckdb`` (dbt writes the build file) or ``spark`` (dbt writes Parquet tables
            under ``spark_warehouse``, copied into the build file after each model).
        spark_warehouse: the Spark engine's warehouse folder, or None with DuckDB.
    """

    profile_vars: str = Field(default="{}", description="JSON dbt vars that profiles.yml renders.")
    engine: str = Field(default="duckdb", description="MOVIES_ENGINE: duckdb or spark.")
    spark_warehouse: str | None = Field(default=None, description="MOVIES_SPARK_WAREHOUSE with the spark engine.")

    @cached_property
    def _cli_version(self) -> Version:
        # dbt_executable() is the dbt of this interpreter's environment: its installed dbt-core.
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None

    def vars_args(self, extra: dict[str, str] | None = None) -> list[str]:
        """``["--vars", JSON]`` with the profile vars and ``extra`` (e.g. a partition window)."""
        return ["--vars", json.dumps({**json.loads(self.profile_vars), **(extra or {})}, sort_keys=True)]


def build_dbt_resource(settings: Settings) -> WarehouseDbtCliResource:
    """The ``dbt`` resource for ``settings``: the project's dbt on ``settings.engine``, building
    in ``settings.build_duckdb_path`` (DuckDB) or ``settings.spark_warehouse`` (Spark) from the
    lake at ``settings.lake_dir``."""
    return WarehouseDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        profile_vars=json.dumps(settings.dbt_profile_vars(), sort_keys=True),
        engine=settings.engine,
        spark_warehouse=str(settings.spark_warehouse) if settings.engine == "spark" else None,
    )


def main() -> int:
    """``python -m movie_assets.transform.project``: prepare the manifest for the configured
    settings; exits 2 with the reason when the configuration is invalid."""
    try:
        settings = load_settings_or_explain()
    except InvalidSettings as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    ran = prepare_manifest(build_dbt_project(settings), settings)
    print("dbt manifest parsed" if ran else "dbt manifest is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
