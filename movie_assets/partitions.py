"""The daily partitioning shared by every daily-snapshot asset."""

from dagster import DailyPartitionsDefinition

# end_offset=1 makes today's partition valid, so a daily run captures today's snapshot
# rather than waiting for the day to close.
daily_partitions = DailyPartitionsDefinition(start_date="2026-01-01", end_offset=1, timezone="UTC")
