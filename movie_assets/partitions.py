"""The daily partitioning shared by every daily-snapshot asset.

The first partition is ``MOVIES_PARTITION_START`` (``YYYY-MM-DD``, default ``2026-01-01``):
the sample snapshot is not dated, so any day can be fetched; move it later to shorten
the partition list in the UI, or earlier to backfill older days.
"""

import os
from datetime import date

from dagster import DailyPartitionsDefinition
from dotenv import load_dotenv

from movie_assets.settings import REPO_ROOT

DEFAULT_PARTITION_START = "2026-01-01"


def partition_start() -> str:
    """The first daily partition, ``YYYY-MM-DD``, from ``MOVIES_PARTITION_START``.

    Raises:
        ValueError: the variable is set but is not an ISO date.
    """
    # Asset modules import this before definitions.py loads the settings, so read .env here too.
    load_dotenv(REPO_ROOT / ".env", override=False)
    raw = os.environ.get("MOVIES_PARTITION_START", "").strip() or DEFAULT_PARTITION_START
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise ValueError(f"MOVIES_PARTITION_START must be a date YYYY-MM-DD, got {raw!r}") from None


# end_offset=1 makes today's partition valid, so a daily run captures today's snapshot
# rather than waiting for the day to close.
daily_partitions = DailyPartitionsDefinition(start_date=partition_start(), end_offset=1, timezone="UTC")
