"""Importing ``movie_assets.definitions`` does no work: no child process (no dbt parse), no
read or write of the dbt manifest, no dagster-dbt or dbt import, and ``defs`` stays a lazy
definitions function until Dagster loads the code location.

The import runs in a fresh interpreter, so modules this test session already imported do not
hide what the import itself does. Audit hooks (PEP 578) in that interpreter record every
process start and every file opened under ``dbt_project/target``; they are installed after
``import dagster``, whose vendored croniter runs ``file`` once (``platform.architecture``),
which is Dagster's, not this product's.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from movie_assets.settings import REPO_ROOT

TARGET_DIR = REPO_ROOT / "dbt_project" / "target"
MANIFEST = TARGET_DIR / "duckdb" / "manifest.json"

CHILD = """
import json, sys

PROCESS_EVENTS = {"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system", "pty.spawn"}
target = sys.argv[1]
seen = {"processes": [], "target_files": []}

def audit(event, args):
    if event in PROCESS_EVENTS:
        seen["processes"].append(f"{event} {args[0]!r}"[:200])
    elif event == "open" and isinstance(args[0], str) and args[0].startswith(target):
        seen["target_files"].append(args[0])

import dagster
sys.addaudithook(audit)
import movie_assets.definitions as definitions

seen["dbt_modules"] = sorted(name for name in sys.modules if name.split(".")[0] in ("dagster_dbt", "dbt"))
seen["defs_type"] = type(definitions.defs).__name__
print(json.dumps(seen))
"""


def path_without_dbt() -> str:
    """``$PATH`` without any folder holding a ``dbt`` executable."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(folder for folder in folders if folder and not (Path(folder) / "dbt").exists())


def manifest_stamp() -> int | None:
    return MANIFEST.stat().st_mtime_ns if MANIFEST.exists() else None


def test_importing_definitions_does_no_work():
    # The parent's environment (PYTHONPATH naming the checkout under test included).
    env = {**os.environ, "PATH": path_without_dbt()}
    before = manifest_stamp()
    completed = subprocess.run([sys.executable, "-c", CHILD, str(TARGET_DIR)], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.strip().splitlines()[-1])
    assert seen["processes"] == []
    assert seen["target_files"] == []
    assert seen["dbt_modules"] == []
    assert seen["defs_type"] == "LazyDefinitions"
    assert manifest_stamp() == before
