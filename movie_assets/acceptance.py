"""An operator's one-run acceptance of a source change that a blocking contract or gate
check would stop: ``make run ACCEPT=<check name>`` (``--accept`` of ``movie_assets.cli``), or
the run tag :data:`ACCEPT_TAG` set in the UI's launchpad.

An accepted check still reports what it found (its metadata keeps the lines and says
``accepted``) but passes, so the run publishes once; the publication records the accepted
check names in ``meta.publication.accepted_checks``. The next run compares against that
publication, so the accepted change is the new normal without further action.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Run tag: comma-separated check names (e.g. ``tmdb_movies_body_contract,gold_column_profiles``).
ACCEPT_TAG = "movies/accept"


def accepted_checks(tags: Mapping[str, str]) -> list[str]:
    """The check names the run's :data:`ACCEPT_TAG` accepts, sorted, without blanks."""
    return sorted({name.strip() for name in tags.get(ACCEPT_TAG, "").split(",") if name.strip()})
