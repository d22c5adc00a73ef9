"""The daily partitioning shared by every daily-snapshot asset, job and schedule.

The first partition is ``MOVIES_PARTITION_START`` (``Settings.partition_start``, default
``2026-01-01``): the sample snapshot is not dated, so any day can be fetched; move it later
to shorten the partition list in the UI, or earlier to backfill older days.
"""

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition

from movie_assets.settings import Settings


def build_daily_partitions(settings: Settings) -> DailyPartitionsDefinition:
    """UTC days from ``settings.partition_start`` to today inclusive.

    ``end_offset=1`` makes today's partition valid, so a daily run captures today's snapshot
    rather than waiting for the day to close.
    """
    return DailyPartitionsDefinition(start_date=settings.partition_start.isoformat(), end_offset=1, timezone="UTC")


#: Every daily asset backfills one day per run: the TMDB snapshot is one day per request, and
#: one policy for all daily assets lets ``daily_refresh`` span them without a mixed-policy warning.
ONE_DAY_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)


def partition_window(context: AssetExecutionContext) -> dict[str, str] | None:
    """The run's partition window, ``{"min_date": "YYYY-MM-DD", "max_date": ...}``, from
    ``context.partition_time_window``; None for a run without a partition.

    ``max_date`` is exclusive (the day after the last partition), so a one-day run of
    ``2026-11-20`` gives ``min_date=2026-11-20, max_date=2026-11-21``; a single-run backfill
    of several days gives the whole range. An unpartitioned asset of a partitioned run gets
    the run's window too (Dagster gives its context the run's partitions).
    """
    if not (context.has_partition_key or context.has_partition_key_range):
        return None
    window = context.partition_time_window
    return {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}
