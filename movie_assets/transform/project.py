"""The dbt project (``dbt_project/``), its manifest and the ``dbt`` resource.

The manifest (``dbt_project/target/<engine>/manifest.json``, one per ``MOVIES_ENGINE``: the
engines' configurations differ) is prepared ahead of time, never on
import: by ``make install`` / ``make run`` (``python -m movie_assets.transform.project``), by
the test session, and by ``dagster dev`` through dagster-dbt's ``prepare_if_dev``.

dbt runs in a child process and is told where everything is: ``profiles.yml`` renders
``var('duckdb_path')`` (the build file) and ``var('memory_limit')``, and the bronze sources
``var('lake_dir')``, all passed as ``--vars`` from
:meth:`~movie_assets.settings.Settings.dbt_profile_vars` on every invocation. A run's
partition window reaches dbt as environment variables (:func:`window_environment`), so that
every invocation starts from the prepared partial-parse state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from pydantic import Field

from movie_assets.settings import REPO_ROOT, InvalidSettings, Settings, load_settings_or_explain

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# Recorded beside the manifest: the vars it was parsed with. dbt discards its partial-parse
# state (seconds of re-parsing in every invocation) when an invocation's vars differ from it.
PARSED_WITH = "parsed_with_vars.json"
# The environment variables of a run's partition window, read by the dbt macros
# window_min_date / window_max_date (dbt_project/macros/partition_window.sql).
WINDOW_ENVIRONMENT = {"min_date": "MOVIES_WINDOW_MIN_DATE", "max_date": "MOVIES_WINDOW_MAX_DATE"}


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
    """Run ``dbt parse`` for ``settings``, without a partition window, unless the manifest is
    current (a few stat calls).

    Returns:
        True when dbt parse ran.

    Raises:
        subprocess.CalledProcessError: ``dbt parse`` failed (its output names the file).
    """
    if not force and manifest_is_current(project, settings):
        return False
    profile_vars = json.dumps(settings.dbt_profile_vars(), sort_keys=True)
    subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--vars",
            profile_vars,
            "--target-path",
            str(project.target_path),
            "--project-dir",
            str(project.project_dir),
            "--profiles-dir",
            str(project.profiles_dir),
        ],
        env=child_environment(None),
        check=True,
    )
    project.manifest_path.with_name(PARSED_WITH).write_text(profile_vars)
    return True


def window_environment(window: Mapping[str, str] | None) -> dict[str, str | None]:
    """The environment variables that give dbt a partition window ``{"min_date": first day,
    "max_date": day after the last}`` (ISO dates): ``MOVIES_WINDOW_MIN_DATE`` and
    ``MOVIES_WINDOW_MAX_DATE``; both None (to be unset) for no window, every day.

    Why not ``--vars``: dbt re-parses the whole project when an invocation's vars differ from
    its partial-parse state's (+5.9 s a dbt invocation, measured in bench/README.md,
    "Partition window"), and the window differs every day; a changed ``env_var`` re-parses
    only the files that read it (+1.0 s). Unset, not empty, without a window: that is how
    ``make install`` and ``dagster dev`` (``prepare_if_dev``) parse, and dbt counts an empty
    value as a change from an unset one.
    """
    return {name: (window or {}).get(key) for key, name in WINDOW_ENVIRONMENT.items()}


def child_environment(window: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of ``os.environ`` for a ``dbt`` child process started by hand, with the window
    variables of ``window`` (:func:`window_environment`; unset for None)."""
    variables = window_environment(window)
    env = {name: value for name, value in os.environ.items() if name not in variables}
    env.update({name: value for name, value in variables.items() if value is not None})
    return env


@contextmanager
def environment(variables: Mapping[str, str | None]) -> Iterator[None]:
    """Set ``variables`` in ``os.environ`` (unset those that are None) for the duration of the
    block, then restore the previous values.

    Why: ``DbtCliResource.cli`` starts dbt with a copy of this process's environment and has
    no argument for more; dbt's child process keeps what it was started with. Safe because a
    run's steps run one at a time in its process (README, "Storage tiers"), so no other
    thread starts dbt meanwhile.
    """
    previous = {name: os.environ.get(name) for name in variables}

    def apply(values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    apply(variables)
    try:
        yield
    finally:
        apply(previous)


def _last_written(folder: Path) -> float:
    # dbt appends to dbt.log while it runs, so a folder still in use counts as recent. A
    # folder another process removed meanwhile counts as oldest (its rmtree then does nothing).
    times = []
    for path in (folder, folder / "dbt.log"):
        try:
            times.append(path.stat().st_mtime)
        except OSError:
            pass
    return max(times, default=0.0)


def prune_invocation_folders(newest: Path, keep: int) -> list[Path]:
    """Delete the artifact folders of older invocations of the same dbt asset as ``newest``,
    keeping the ``keep`` most recently written (``newest`` among them); returns the deleted.

    dagster-dbt gives each invocation its own folder beside ``newest``, named
    ``<op name>-<run id[:7]>-<random 7>`` (manifest, ``run_results.json``, compiled SQL,
    ``dbt.log``; 3-8 MB each on the sample, three per daily run), and never deletes one.
    dagster-dbt has no retention setting, hence this function. Folders of other assets
    (another ``<op name>``) and anything else in the folder are left alone; a folder that
    cannot be removed is skipped.

    Args:
        newest: the artifact folder of the invocation that just ran (kept).
        keep: folders to keep, ``newest`` included.

    Raises:
        ValueError: ``keep`` is below 1 (the newest folder is never deleted).
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    op_name = newest.name.rsplit("-", 2)[0]
    siblings = [path for path in newest.parent.glob(f"{op_name}-*-*") if path.is_dir() and path.name.rsplit("-", 2)[0] == op_name]
    older = sorted((path for path in siblings if path != newest), key=_last_written, reverse=True)
    deleted = older[keep - 1 :]
    for path in deleted:
        shutil.rmtree(path, ignore_errors=True)
    return deleted


def manifest_target_path(engine: str) -> Path:
    """The folder, relative to ``dbt_project/``, of the manifest and partial-parse state prepared
    for ``engine`` (``duckdb`` or ``spark``): ``target/<engine>``."""
    return Path("target") / engine


def build_dbt_project(settings: Settings) -> DbtProject:
    """The ``dbt_project/`` folder as a dagster-dbt ``DbtProject`` (profiles in the same folder),
    its manifest in ``target/<engine>``; ``dagster dev`` re-parses it on every code load with
    ``settings``' profile vars."""
    profile_vars = json.dumps(settings.dbt_profile_vars(), sort_keys=True)
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=manifest_target_path(settings.engine),
        prepare_project_cli_args=["parse", "--quiet", "--vars", profile_vars],
    )


class WarehouseDbtCliResource(DbtCliResource):
    """The ``dbt`` resource: ``DbtCliResource`` that passes the warehouse's profile vars and a
    run's partition window, and starts every invocation from the engine's prepared
    partial-parse state.

    It overrides one public method, :meth:`cli`, to set dbt's environment for the invocation
    (:func:`environment`): ``DBT_TARGET_PATH`` is the engine's manifest folder
    (:func:`manifest_target_path`), so dagster-dbt creates the invocation's artifact folder
    there and copies that folder's ``partial_parse.msgpack`` into it, as it does from
    ``target/`` by default; the window variables (:func:`window_environment`). dagster-dbt's
    own start-up work stays: ``dbt --version`` once per resource instance and an in-process
    dbt adapter per invocation (measured in bench/README.md, "dbt resource: public methods
    only").

    Attributes:
        profile_vars: JSON object of the vars every invocation gets
            (:meth:`~movie_assets.settings.Settings.dbt_profile_vars`): the engine, the build
            file, the lake, the Spark master and warehouse.
        engine: ``duckdb`` (dbt writes the build file) or ``spark`` (dbt writes Parquet tables
            under ``spark_warehouse``, copied into the build file after each model).
        spark_warehouse: the Spark engine's warehouse folder, or None with DuckDB.
        artifacts_keep: invocation artifact folders kept per dbt asset
            (:func:`prune_invocation_folders`).
    """

    profile_vars: str = Field(default="{}", description="JSON dbt vars that profiles.yml renders.")
    engine: str = Field(default="duckdb", description="MOVIES_ENGINE: duckdb or spark.")
    spark_warehouse: str | None = Field(default=None, description="MOVIES_SPARK_WAREHOUSE with the spark engine.")
    artifacts_keep: int = Field(default=30, ge=1, description="MOVIES_DBT_ARTIFACTS_KEEP: invocation folders kept per dbt asset.")

    def cli(self, args: Sequence[str], *, window: Mapping[str, str] | None = None, **kwargs: Any) -> DbtCliInvocation:
        """``DbtCliResource.cli`` with the partition ``window`` (``{"min_date", "max_date"}``,
        ISO dates, end exclusive; None for every day) and the engine's target folder in dbt's
        environment."""
        variables = {"DBT_TARGET_PATH": str(manifest_target_path(self.engine)), **window_environment(window)}
        with environment(variables):
            return super().cli(args, **kwargs)

    def vars_args(self) -> list[str]:
        """``["--vars", JSON]`` with the profile vars."""
        return ["--vars", self.profile_vars]


def build_dbt_resource(settings: Settings) -> WarehouseDbtCliResource:
    """The ``dbt`` resource for ``settings``: the project's dbt on ``settings.engine``, building
    in ``settings.build_duckdb_path`` (DuckDB) or ``settings.spark_warehouse`` (Spark) from the
    lake at ``settings.lake_dir``."""
    return WarehouseDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        # dbt.log (one per invocation, beside its artifacts) at dbt's default debug level logs
        # every statement: ~7 MB and ~2 of the 13 CPU-seconds of the sample's build. At info it
        # holds what the run's log shows; rerun by hand with --debug for the statements.
        global_config_flags=["--log-level-file", "info"],
        profile_vars=json.dumps(settings.dbt_profile_vars(), sort_keys=True),
        engine=settings.engine,
        spark_warehouse=str(settings.spark_warehouse) if settings.engine == "spark" else None,
        artifacts_keep=settings.dbt_artifacts_keep,
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
