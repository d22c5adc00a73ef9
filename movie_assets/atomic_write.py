"""Atomic file output: readers see the previous file or the complete new one, never a partial one."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path: Path, mode: int = 0o644) -> Iterator[str]:
    """Yield a temp file name beside ``path``; on success move it over ``path``.

    The caller writes the whole file to the yielded name. When the block ends without an
    error the file is flushed to disk, given ``mode`` (default 0644: outputs are shared,
    ``mkstemp`` creates 0600; 0444 for a snapshot no one may change) and moved into place with ``os.replace`` (atomic on one file
    system). On any error the temp file is removed and ``path`` is left as it was.

    Each file has one writer at a time (runs are serialized), so a temp file already beside
    ``path`` is what a killed writer left; it is removed first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield temp_name
        with open(temp_name, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
