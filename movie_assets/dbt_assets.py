"""dbt silver and gold models as Dagster assets (dagster-dbt).

Model asset keys are ``[schema, model]`` (``["silver", "tmdb_movies"]``), sources keep
dagster-dbt's ``[source, table]`` (``["bronze", "tmdb_movies"]``), so the dbt graph
attaches to the Python bronze assets and lineage reads bronze → silver → gold in the UI.
Each dbt test becomes an asset check on the model it tests.
"""


import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from movie_assets.settings import REPO_ROOT

dbt_project = DbtProject(project_dir=REPO_ROOT / "dbt_project")
dbt_project.prepare_if_dev()


def dbt_executable() -> str:
    """The ``dbt`` installed beside this interpreter (the project venv), else the one on PATH.

    ``.venv/bin/python -m ...`` runs without the venv's ``bin`` on PATH.
    """
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def _newest_source_mtime() -> float:
    sources = [dbt_project.project_dir / "dbt_project.yml", dbt_project.project_dir / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend((dbt_project.project_dir / folder).rglob("*.*"))
    return max(path.stat().st_mtime for path in sources if path.is_file())


def ensure_manifest() -> None:
    """Run ``dbt parse`` when the manifest is missing or older than any dbt source file.

    ``dagster dev`` re-parses on every load through ``prepare_if_dev``; this keeps the CLI,
    tests and ``make run`` from loading a stale graph after models change (a few stat
    calls when the manifest is current).
    """
    manifest = dbt_project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", str(dbt_project.project_dir),
             "--profiles-dir", str(dbt_project.profiles_dir)],
            check=True,
        )


ensure_manifest()


class MovieDbtTranslator(DagsterDbtTranslator):
    """Keys models by ``[schema, name]`` and groups them by schema (silver, gold)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_group_name(dbt_resource_props)
        return dbt_resource_props["schema"]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return ["team:analytics-engineering"]


translator = MovieDbtTranslator()


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator, project=dbt_project)
def movie_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """Build (run + test) the selected silver and gold models in the warehouse DuckDB file."""
    yield from dbt.cli(["build"], context=context).stream()
