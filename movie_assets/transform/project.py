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
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dagster import InitResourceContext
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from pydantic import Field, PrivateAttr

from movie_assets.settings import REPO_ROOT, InvalidSettings, Settings, load_settings_or_explain

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# Recorded beside the manifest: the vars it was parsed with. dbt discards its partial-parse
# state (seconds of re-parsing in every run) when a run's vars differ from the parse's.
PARSED_WITH = "parsed_with_vars.json"
# Longest wait for the run's window parse (it takes ~5 s; a slower one is left to dbt build).
WINDOW_PARSE_TIMEOUT_SECONDS = 120
# dbt's partial-parse state, in its target folder.
PARTIAL_PARSE_FILE_NAME = "partial_parse.msgpack"

# The run tags Dagster sets on a partitioned run (documented under "Run tags"): one day, or the
# first and last day of a backfill's range. Named here because Dagster exports them only
# from a private module.
PARTITION_NAME_TAG = "dagster/partition"
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


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
        check=True,
    )
    project.manifest_path.with_name(PARSED_WITH).write_text(profile_vars)
    return True


def run_window(tags: Mapping[str, str]) -> dict[str, str] | None:
    """The partition window of a run with these tags, as the dbt models get it
    (:func:`movie_assets.transform.dbt_assets.partition_vars`): ``{"min_date": first day,
    "max_date": day after the last}``, ISO dates; None for a run without a daily partition.
    """
    first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get(PARTITION_NAME_TAG)
    last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or tags.get(PARTITION_NAME_TAG)
    try:
        end = date.fromisoformat(last) + timedelta(days=1) if first and last else None
        return {"min_date": date.fromisoformat(first).isoformat(), "max_date": end.isoformat()} if end else None
    except ValueError:
        return None


class WindowParse:
    """A ``dbt parse`` with one invocation's vars, run in the background into its own target folder.

    dbt re-parses the whole project (~5 s, more under load) when an invocation's ``--vars``
    differ from the last parse's, which the partition window does on every daily run. Parsed
    while the run fetches from TMDB (rate-limited, idle CPU), the daily models' build then
    starts from this parse's partial-parse state. dbt still compares the vars it was parsed
    with, so a state that does not match is re-parsed, never used.

    Args:
        vars_args: ``["--vars", JSON]`` of the invocation to prepare.
        target: the folder for the parse's state and log (``<project>/target/...``).
        dbt: the resource (executable, project and profiles folders).
    """

    def __init__(self, vars_args: list[str], target: Path, dbt: DbtCliResource):
        self.vars_args = vars_args
        self.target = target
        env = {**os.environ, "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        self.process = subprocess.Popen(
            [dbt.dbt_executable, "parse", "--quiet", *vars_args, "--profiles-dir", str(dbt.profiles_dir or dbt.project_dir)],
            cwd=dbt.project_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def matches(self, args: Sequence[str]) -> bool:
        """True when ``args`` carry exactly this parse's vars."""
        return any(args[i : i + 2] == self.vars_args for i in range(len(args) - 1))

    def state(self) -> Path | None:
        """Wait for the parse; its partial-parse state file, or None when the parse failed or
        took longer than ``WINDOW_PARSE_TIMEOUT_SECONDS``."""
        try:
            returncode = self.process.wait(timeout=WINDOW_PARSE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None
        state = self.target / PARTIAL_PARSE_FILE_NAME
        return state if returncode == 0 and state.exists() else None

    def close(self) -> None:
        """Stop the parse if it still runs and remove its folder."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.target, ignore_errors=True)


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
    ``dbt.log``; 3-8 MB each on the sample, two per daily run), and never deletes one.
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


def invocation_target_path(context: Any) -> Path:
    """A new artifact folder for one dbt invocation, relative to the dbt project folder:
    ``target/<op name>-<run id[:7]>-<random 7>`` in a run (the name dagster-dbt gives its own
    folders, which :func:`prune_invocation_folders` relies on), ``target/<random 7>`` without
    ``context``. Chosen here because :meth:`WarehouseDbtCliResource.cli` places the
    partial-parse state in it before dbt starts."""
    unique = uuid.uuid4().hex[:7]
    if context is None:
        return Path("target") / unique
    return Path("target") / f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{unique}"


class WarehouseDbtCliResource(DbtCliResource):
    """The ``dbt`` resource: ``DbtCliResource`` that passes the warehouse path and memory limit
    as dbt vars and starts each invocation from a prepared partial-parse state.

    It overrides only public methods (``setup_for_execution``, ``teardown_after_execution``,
    ``cli``). dagster-dbt's own start-up work stays: before a ``dbt`` command it runs
    ``dbt --version`` once per resource instance and builds a dbt adapter in this process for
    ``fetch_column_metadata`` / ``fetch_row_counts``, which this project does not call (it
    reads table metadata from DuckDB itself, :func:`movie_assets.warehouse.metadata.table_metadata`).
    Skipping both took private overrides; their cost is measured in bench/README.md
    ("dbt resource: public methods only").

    Every invocation starts from a partial-parse state: dagster-dbt would copy it from
    ``target/``, but the manifest is prepared per engine in ``target/<engine>``
    (:func:`manifest_target_path`), so :meth:`cli` places that one. A run with a daily
    partition starts, when the resource is set up, a :class:`WindowParse` with the vars its
    dbt invocations will get; they start from that parse instead.

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
    _window_parse: WindowParse | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        super().setup_for_execution(context)
        window = run_window(context.dagster_run.tags) if context.dagster_run else None
        if window:
            target = Path(self.project_dir) / "target" / f"window-parse-{context.dagster_run.run_id}"
            self._window_parse = WindowParse(self.vars_args(window), target, self)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._window_parse is not None:
            self._window_parse.close()

    def cli(self, args: Sequence[str], *, context: Any = None, target_path: Path | None = None, **kwargs: Any) -> DbtCliInvocation:
        """``DbtCliResource.cli`` starting from the partial-parse state of this run's window
        parse when ``args`` carry its vars, else from the engine's prepared manifest; an
        explicit ``target_path`` is used as given."""
        if target_path is None:
            target_path = invocation_target_path(context)
            if self._window_parse is not None and self._window_parse.matches(args):
                state = self._window_parse.state()
            else:
                state = Path(self.project_dir) / manifest_target_path(self.engine) / PARTIAL_PARSE_FILE_NAME
            if state is not None and state.exists():
                destination = Path(self.project_dir) / target_path
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copy(state, destination / PARTIAL_PARSE_FILE_NAME)
        return super().cli(args, context=context, target_path=target_path, **kwargs)

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
