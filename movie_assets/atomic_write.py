"""Atomic file output: readers see the previous file or the complete new one, never a partial one."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_output(path: Path) -> Iterator[str]:
    """Yield a temp file name beside ``path``; on success move it over ``path``.

    The caller writes the whole file to the yielded name. When the block ends without an
    error the file is made world-readable (0644: reports are shared, ``mkstemp`` creates
    0600) and moved into place with ``os.replace`` (atomic on one file system). On any error
    the temp file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield temp_name
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
