"""What a partition window costs dbt's parse: ``--vars`` against environment variables.

Every dbt step of a daily run starts from the engine's prepared partial-parse state
(``dbt_project/target/<engine>/partial_parse.msgpack``, made by ``make install``). This script
times ``dbt parse`` from a fresh copy of that state, three ways, alternating, ``--repeats``
times each:

- ``no window``: the profile vars only, as the state was prepared (the floor: dbt's start-up
  and the state's load);
- ``window as env``: the same vars, the window in ``MOVIES_WINDOW_MIN_DATE`` /
  ``MOVIES_WINDOW_MAX_DATE``, as the product passes it (dbt re-parses the files that read them);
- ``window as vars``: the window added to ``--vars`` as ``min_date`` / ``max_date``, as before
  (dbt discards the state and parses the whole project).

Only the parse is timed (``dbt parse``): a ``dbt build`` parses the same way before it runs.
The third way's vars are unused by the project, but dbt compares the vars, not their use.

Run::

    .venv/bin/python bench/window_parse.py --repeats 5

Results: ``--out`` (default ``results/window_parse``) ``window_parse.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO_ROOT, RESULTS_DIR, machine_info, markdown_table, save_json

sys.path.insert(0, str(REPO_ROOT))
from movie_assets.settings import load_settings_or_explain  # noqa: E402
from movie_assets.transform.project import (  # noqa: E402
    DBT_PROJECT_DIR,
    build_dbt_project,
    child_environment,
    dbt_executable,
    prepare_manifest,
)

WINDOW = {"min_date": "2026-11-20", "max_date": "2026-11-21"}


def timed_parse(state: Path, profile_vars: dict, way: str) -> float:
    """Seconds of one ``dbt parse`` starting from a copy of ``state``, the window passed ``way``.

    Raises:
        subprocess.CalledProcessError: dbt parse failed.
    """
    dbt_vars = {**profile_vars, **WINDOW} if way == "window as vars" else profile_vars
    env = {**child_environment(WINDOW if way == "window as env" else None), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    with tempfile.TemporaryDirectory() as target:
        shutil.copy(state, Path(target) / state.name)
        args = [dbt_executable(), "parse", "--quiet", "--vars", json.dumps(dbt_vars, sort_keys=True), "--target-path", target]
        started = time.monotonic()
        subprocess.run([*args, "--profiles-dir", str(DBT_PROJECT_DIR)], cwd=DBT_PROJECT_DIR, env=env, check=True)
        return round(time.monotonic() - started, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "window_parse")
    args = parser.parse_args()
    settings = load_settings_or_explain()
    project = build_dbt_project(settings)
    prepare_manifest(project, settings)
    state = project.manifest_path.with_name("partial_parse.msgpack")
    profile_vars = settings.dbt_profile_vars()
    ways = ["no window", "window as env", "window as vars"]
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for repeat in range(args.repeats):
        for way in ways if repeat % 2 == 0 else reversed(ways):
            seconds[way].append(timed_parse(state, profile_vars, way))
            print(f"{way}: {seconds[way][-1]} s", flush=True)
    floor = statistics.median(seconds["no window"])
    rows = [
        {
            "way": way,
            "median_s": statistics.median(runs),
            "min_s": min(runs),
            "max_s": max(runs),
            "ratio_to_no_window": round(statistics.median(runs) / floor, 2),
        }
        for way, runs in seconds.items()
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    save_json(args.out / "window_parse.json", {"machine": machine_info(), "window": WINDOW, "runs": seconds, "summary": rows})
    table = markdown_table(rows, ["way", "median_s", "min_s", "max_s", "ratio_to_no_window"])
    (args.out / "window_parse.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
