"""What a person sees after ``make run``: a short table per run instead of the event log.

Built from the run's own Dagster events (step timings, materializations, check results) and
a read-only look at the warehouse; the full event log stays in ``$DAGSTER_HOME`` and is
written to a log file that the summary names.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import duckdb
from dagster import DagsterEventType, DagsterInstance, EventLogEntry

from movie_assets.tmdb.observation import missing_observation_message
from movie_assets.warehouse.lake import Lake

LAYERS = ("bronze", "silver", "gold", "serving", "reports")
PUBLISHED_ASSET = ["serving", "warehouse_snapshot"]
TMDB_FETCH_ASSET = ["bronze", "tmdb_movies"]
MAX_LISTED_FAILURES = 10


@dataclass
class CheckOutcome:
    """One asset check's result: ``name`` (``asset/key:check``), ``passed``, ``severity`` (ERROR
    or WARN) and whether it is ``blocking`` (a failure stops everything downstream, publication included)."""

    name: str
    passed: bool
    severity: str
    blocking: bool = False


@dataclass
class RunSummary:
    """A run's outcome for the terminal.

    Attributes:
        run_id: the Dagster run id.
        partition: the partition key (``YYYY-MM-DD``) or None.
        succeeded: whether the run succeeded.
        stage_seconds: wall seconds per stage (``bronze``, ``silver+gold``, ``reports``, …), in
            graph order; a step's stage is the layers of the assets it materialized or checked.
        failed_steps: step keys that failed.
        checks: every asset check result of the run.
        skipped_steps: steps Dagster skipped (nothing upstream changed, or a blocking check failed).
        published: the snapshot file the run published for readers, or None.
        observation: what the TMDB fetch did for the day (``observe``, ``late``, ``keep``,
            ``missing``; :mod:`movie_assets.tmdb.observation`), or None when it did not run.
    """

    run_id: str
    partition: str | None
    succeeded: bool
    stage_seconds: dict[str, float] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    skipped_steps: int = 0
    checks: list[CheckOutcome] = field(default_factory=list)
    published: str | None = None
    observation: str | None = None

    @property
    def checks_failed(self) -> list[CheckOutcome]:
        return [check for check in self.checks if not check.passed]


def _layer(asset_path: list[str]) -> str:
    return asset_path[0] if asset_path and asset_path[0] in LAYERS else "other"


def _stage(layers: set[str]) -> str:
    ordered = [layer for layer in (*LAYERS, "other") if layer in layers]
    return "+".join(ordered) if ordered else "other"


def summarize_events(run_id: str, partition: str | None, succeeded: bool, events: Iterable[EventLogEntry]) -> RunSummary:
    """Fold a run's event log entries into a :class:`RunSummary`.

    Step durations are the span from ``STEP_START`` to ``STEP_SUCCESS``/``STEP_FAILURE``
    (seconds); a stage's time is the sum of its steps.
    """
    summary = RunSummary(run_id=run_id, partition=partition, succeeded=succeeded)
    started: dict[str, float] = {}
    duration: dict[str, float] = {}
    step_layers: dict[str, set[str]] = defaultdict(set)
    for entry in events:
        event = entry.dagster_event
        if event is None:
            continue
        step = event.step_key
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            started[step] = entry.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            duration[step] = entry.timestamp - started.get(step, entry.timestamp)
            if kind == DagsterEventType.STEP_FAILURE:
                summary.failed_steps.append(step)
        elif kind == DagsterEventType.STEP_SKIPPED:
            summary.skipped_steps += 1
        elif kind == DagsterEventType.ASSET_OBSERVATION:
            if event.asset_key.path == TMDB_FETCH_ASSET:
                summary.observation = _observation(event.event_specific_data.asset_observation.metadata)
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            step_layers[step].add(_layer(event.asset_key.path))
            if event.asset_key.path == TMDB_FETCH_ASSET:
                summary.observation = _observation(event.event_specific_data.materialization.metadata)
            if event.asset_key.path == PUBLISHED_ASSET:
                snapshot = event.event_specific_data.materialization.metadata.get("snapshot")
                summary.published = str(snapshot.value) if snapshot is not None else "yes"
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            step_layers[step].add(_layer(evaluation.asset_key.path))
            summary.checks.append(
                CheckOutcome(
                    name=f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
                    passed=evaluation.passed,
                    severity=evaluation.severity.value,
                    blocking=bool(evaluation.blocking),
                )
            )
    for step, seconds in duration.items():
        stage = _stage(step_layers.get(step, set()))
        summary.stage_seconds[stage] = summary.stage_seconds.get(stage, 0.0) + seconds
    rank = {layer: position for position, layer in enumerate(LAYERS)}
    summary.stage_seconds = dict(sorted(summary.stage_seconds.items(), key=lambda item: rank.get(item[0].split("+")[0], len(LAYERS))))
    return summary


def _observation(metadata: dict) -> str | None:
    value = metadata.get("observation")
    return str(value.value) if value is not None else None


def observation_line(partition: str | None, observation: str | None) -> str | None:
    """The summary's line on the TMDB observation of ``partition``, None for an on-time fetch
    (or no fetch in the run)."""
    if observation == "missing":
        return missing_observation_message(partition)
    if observation == "late":
        return f"late TMDB observation: {partition} holds today's values, marked observed_late in silver and gold"
    if observation == "keep":
        return f"TMDB observation of {partition} kept: nothing fetched, silver and gold re-derived from the lake"
    return None


def unobserved_days_line(days: list[str]) -> str | None:
    """The line ending a backfill that met past days without an observation (nothing was
    written for them), None when there were none."""
    if not days:
        return None
    return (
        f"no TMDB observation, nothing written: {', '.join(days)}; TMDB serves only current values, "
        "rerun these days with --refetch (make backfill ... REFETCH=1) to store today's values as theirs"
    )


def warehouse_counts(database: Path) -> dict[str, tuple[int, int]]:
    """``{schema: (tables, rows)}`` for ``silver`` and ``gold`` of the DuckDB file (the build),
    opened read-only; empty when it does not exist yet or cannot be opened.

    Row counts are DuckDB's ``estimated_size`` per table, exact for tables this pipeline writes
    (no deletes pending a checkpoint) and cheap for any size.
    """
    if not database.exists():
        return {}
    try:
        conn = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        # Still held by a step that failed; the summary goes without the counts.
        return {}
    with conn:
        return {
            schema: (tables, int(rows or 0))
            for schema, tables, rows in conn.execute(
                "SELECT schema_name, count(*), sum(estimated_size) FROM duckdb_tables() "
                "WHERE schema_name IN ('silver', 'gold') GROUP BY schema_name"
            ).fetchall()
        }


def lake_counts(lake: Lake, partition: str | None) -> tuple[tuple[int, int], dict[str, int]]:
    """``((bronze tables with data, rows), {dead-letter reason: count for partition})`` read
    from the lake's Parquet files (row counts come from the files' metadata, cheap at any size)."""
    letters: dict[str, int] = {}
    tables = lake.tables()
    rows = 0
    with lake.connect_bronze() as conn:
        for table in tables:
            rows += conn.execute(f"SELECT count(*) FROM bronze.{table}").fetchone()[0]
        if partition and "tmdb_dead_letter" in tables:
            letters = dict(
                conn.execute(
                    "SELECT reason, count(*) FROM bronze.tmdb_dead_letter WHERE partition_date = ? "
                    "GROUP BY reason ORDER BY reason",
                    [partition],
                ).fetchall()
            )
    return (len(tables), rows), letters


def write_event_log(instance: DagsterInstance, run_id: str, path: Path, console_output: str = "") -> Path:
    """Write every event of ``run_id`` (UTC time, level, step, message) to ``path``, one a
    line, then ``console_output`` (what the run printed, e.g. dbt's log lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for entry in instance.all_logs(run_id):
            stamp = datetime.fromtimestamp(entry.timestamp, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
            kind = entry.dagster_event.event_type_value if entry.dagster_event else "LOG"
            message = entry.user_message or (entry.dagster_event.message if entry.dagster_event else "") or ""
            level = logging.getLevelName(entry.level) if isinstance(entry.level, int) else str(entry.level)
            handle.write(f"{stamp} {level:<7} {entry.step_key or '-'} {kind} {message}\n")
        if console_output:
            handle.write("\n--- console output of the run ---\n")
            handle.write(console_output)
    return path


def format_summary(
    summary: RunSummary,
    layers: dict[str, tuple[int, int]],
    dead_letters: dict[str, int],
    tmdb_source: str,
    outputs: dict[str, Path],
) -> str:
    """The summary as plain text, at most about 30 lines (failed checks listed up to 10)."""
    status = "succeeded" if summary.succeeded else "FAILED"
    lines = [f"run {summary.run_id} for {summary.partition or 'no partition'}: {status} (TMDB source: {tmdb_source})"]
    observed = observation_line(summary.partition, summary.observation)
    if observed:
        lines.append(f"  {observed}")
    lines.append(f"  {'stage':<22}{'seconds':>9}")
    for stage, seconds in summary.stage_seconds.items():
        lines.append(f"  {stage:<22}{seconds:>9.1f}")
    if summary.skipped_steps:
        lines.append(f"  {summary.skipped_steps} steps skipped (nothing upstream changed, or a blocking check failed)")
    if layers:
        lines.append(f"  {'layer':<22}{'tables':>9}{'rows':>12}")
        for schema in ("bronze", "silver", "gold"):
            if schema in layers:
                tables, rows = layers[schema]
                lines.append(f"  {schema:<22}{tables:>9}{rows:>12,}")
    letters = sum(dead_letters.values())
    detail = ", ".join(f"{reason} {count}" for reason, count in dead_letters.items())
    lines.append(f"  dead letters of the day: {letters}" + (f" ({detail})" if detail else ""))
    failed = summary.checks_failed
    lines.append(f"  checks: {len(summary.checks) - len(failed)} passed, {len(failed)} failed")
    for check in failed[:MAX_LISTED_FAILURES]:
        lines.append(f"    FAILED ({check.severity}) {check.name}")
    if len(failed) > MAX_LISTED_FAILURES:
        lines.append(f"    … and {len(failed) - MAX_LISTED_FAILURES} more (see the log)")
    for step in summary.failed_steps:
        lines.append(f"  step failed: {step}")
    stopped = [check.name for check in failed if check.blocking]
    if summary.published:
        lines.append(f"  published for readers: {Path(summary.published).name}")
    elif stopped:
        lines.append(
            f"  NOT published (blocking check failed: {', '.join(stopped[:3])}); readers keep the last good snapshot"
        )
    for label, path in outputs.items():
        lines.append(f"  {label:<22}{path}")
    return "\n".join(lines)
