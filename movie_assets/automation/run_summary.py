"""What a person sees after ``make run``: a short table per run instead of the event log.

Built from the run's own Dagster events (step timings, materializations, check results) and
a read-only look at the warehouse; the full event log stays in ``$DAGSTER_HOME`` and is
written to a log file that the summary names.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance, EventLogEntry

from movie_assets.tmdb.observation import missing_observation_message
from movie_assets.warehouse.lake import Lake

LAYERS = ("bronze", "silver", "gold", "serving", "reports")
PUBLISHED_ASSET = ["serving", "warehouse_snapshot"]
TMDB_FETCH_ASSET = ["bronze", "tmdb_movies"]
MAX_LISTED_FAILURES = 10
#: The metadata Dagster's freshness checks put on each result (their parameters).
FRESHNESS_PARAMS = "dagster/freshness_params"
#: Lines of a failed step's error message the summary shows, and characters of each.
ERROR_LINES = 3
ERROR_LINE_CHARS = 300
#: dagster-dbt's error for a failed dbt command: the command line, then this line and dbt's errors.
DBT_ERRORS = "Errors parsed from dbt logs:"
#: Lines of one failed check's description shown (a contract or gate check names each finding).
MAX_LISTED_FINDINGS = 5


@dataclass
class CheckOutcome:
    """One asset check's result: ``name`` (``asset/key:check``), ``passed``, ``severity`` (ERROR
    or WARN), whether it is ``blocking`` (a failure stops everything downstream, publication
    included) and its ``description`` (what a contract or gate check found, with the numbers)."""

    name: str
    passed: bool
    severity: str
    blocking: bool = False
    description: str | None = None


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
        errors: the first :data:`ERROR_LINES` lines of each failed step's error message, by
            step key (key ``run`` for a run that failed outside any step); the traceback is
            in the run's log file (:func:`write_event_log`).
        checks: every asset check result of the run but the freshness checks.
        freshness: the freshness checks' results (``movie_assets.automation.freshness``): they
            judge the instance's history (has today landed?), not the day the run built, and
            Dagster runs them with their asset in a run of a selection.
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
    errors: dict[str, list[str]] = field(default_factory=dict)
    skipped_steps: int = 0
    checks: list[CheckOutcome] = field(default_factory=list)
    freshness: list[CheckOutcome] = field(default_factory=list)
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


def error_head(error) -> list[str]:
    """The first :data:`ERROR_LINES` non-blank lines of a Dagster error's message (a
    ``SerializableErrorInfo``), each cut to :data:`ERROR_LINE_CHARS` characters.

    The innermost cause is the one shown: Dagster wraps what a step raised in "Error occurred
    while executing op …", which says only which step (the summary already does). Of a failed
    dbt command, the lines shown are the error's first line and dbt's own errors (e.g. ``IO
    Error: Could not set lock on file …``), not the command line.
    """
    while error.cause is not None:
        error = error.cause
    lines = [line.rstrip() for line in error.message.splitlines() if line.strip()]
    if DBT_ERRORS in lines:
        lines = [lines[0], *lines[lines.index(DBT_ERRORS) + 1 :]]
    lines = lines[:ERROR_LINES]
    return [line if len(line) <= ERROR_LINE_CHARS else line[: ERROR_LINE_CHARS - 1] + "…" for line in lines]


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
                error = event.step_failure_data.error
                if error is not None:
                    summary.errors[step] = error_head(error)
        elif kind == DagsterEventType.RUN_FAILURE and not summary.failed_steps:
            error = event.event_specific_data.error if event.event_specific_data else None
            summary.errors["run"] = error_head(error) if error else [event.message or "failed"]
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
            outcomes = summary.freshness if FRESHNESS_PARAMS in evaluation.metadata else summary.checks
            outcomes.append(
                CheckOutcome(
                    name=f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
                    passed=evaluation.passed,
                    severity=evaluation.severity.value,
                    blocking=bool(evaluation.blocking),
                    description=evaluation.description,
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
                "SELECT schema_name, count(*), sum(estimated_size) FROM duckdb_tables() WHERE schema_name IN ('silver', 'gold') GROUP BY schema_name"
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
                    "SELECT reason, count(*) FROM bronze.tmdb_dead_letter WHERE partition_date = ? GROUP BY reason ORDER BY reason",
                    [partition],
                ).fetchall()
            )
    return (len(tables), rows), letters


def write_event_log(instance: DagsterInstance, run_id: str, path: Path, console_output: str = "") -> Path:
    """Write every event of ``run_id`` (UTC time, level, step, message) to ``path``, one a
    line, a failure followed by its error with the traceback, then ``console_output`` (what
    the run printed, e.g. dbt's log lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for entry in instance.all_logs(run_id):
            stamp = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%H:%M:%S.%f")[:-3]
            kind = entry.dagster_event.event_type_value if entry.dagster_event else "LOG"
            message = entry.user_message or (entry.dagster_event.message if entry.dagster_event else "") or ""
            level = logging.getLevelName(entry.level) if isinstance(entry.level, int) else str(entry.level)
            handle.write(f"{stamp} {level:<7} {entry.step_key or '-'} {kind} {message}\n")
            error = _failure_error(entry)
            if error is not None:
                handle.write(error.to_string().rstrip("\n") + "\n")
        if console_output:
            handle.write("\n--- console output of the run ---\n")
            handle.write(console_output)
    return path


def _failure_error(entry: EventLogEntry):
    """The error (message, traceback, causes) of a step or run failure event, else None."""
    event = entry.dagster_event
    if event is None:
        return None
    if event.event_type == DagsterEventType.STEP_FAILURE:
        return event.step_failure_data.error
    if event.event_type == DagsterEventType.RUN_FAILURE and event.event_specific_data is not None:
        return event.event_specific_data.error
    return None


def format_summary(
    summary: RunSummary,
    layers: dict[str, tuple[int, int]],
    dead_letters: dict[str, int],
    tmdb_source: str,
    outputs: dict[str, Path],
) -> str:
    """The summary as plain text, at most about 30 lines (failed checks listed up to 10, each
    with up to 5 findings of its description, e.g. ``gold.dim_movie.budget_usd non-null share
    0.00, published 0.59``; each failed step with the first lines of its error)."""
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
        lines.extend(f"      {finding}" for finding in (check.description or "").split("; ")[:MAX_LISTED_FINDINGS] if finding)
    if len(failed) > MAX_LISTED_FAILURES:
        lines.append(f"    … and {len(failed) - MAX_LISTED_FAILURES} more (see the log)")
    for check in summary.freshness:
        lines.append(f"  freshness: {check.name} {'passed' if check.passed else 'FAILED'}")
    for step in summary.failed_steps:
        lines.append(f"  step failed: {step}")
        lines.extend(f"    {line}" for line in summary.errors.get(step, []))
    if "run" in summary.errors:
        lines.append("  run failed:")
        lines.extend(f"    {line}" for line in summary.errors["run"])
    stopped = [check.name for check in failed if check.blocking]
    if summary.published:
        lines.append(f"  published for readers: {Path(summary.published).name}")
    elif stopped:
        lines.append(f"  NOT published (blocking check failed: {', '.join(stopped[:3])}); readers keep the last good snapshot")
    for label, path in outputs.items():
        lines.append(f"  {label:<22}{path}")
    return "\n".join(lines)


def report_run(
    instance: DagsterInstance,
    run_id: str,
    partition: str | None,
    settings,
    log_path: Path,
    console_output: str = "",
    links: dict[str, str] | None = None,
) -> RunSummary:
    """Write run ``run_id``'s log file to ``log_path`` (every event, a failure's traceback,
    ``console_output``) and print its summary: stage seconds, rows per layer, dead letters,
    checks, a failed step's error in a few lines, where the outputs are (plus ``links``, e.g.
    the run in the UI).

    ``instance`` is any ``DagsterInstance`` holding the run's events (the embedded one, or the
    service's); ``settings`` (:class:`~movie_assets.settings.Settings`) names the build file,
    lake and reports the counts come from. Returns the run's :class:`RunSummary`.
    """
    from dagster import DagsterRunStatus

    from movie_assets.warehouse.lake import Lake

    succeeded = instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS
    write_event_log(instance, run_id, log_path, console_output)
    summary = summarize_events(run_id, partition, succeeded, instance.all_logs(run_id))
    layers = warehouse_counts(settings.build_duckdb_path)
    layers["bronze"], letters = lake_counts(Lake(settings.lake_dir), partition)
    outputs = {
        "readers' warehouse": settings.duckdb_path,
        "lake (bronze)": settings.lake_dir,
        "reports": settings.reports_dir,
        "full log": log_path,
        **(links or {}),
    }
    print(format_summary(summary, layers, letters, settings.tmdb_source, outputs), flush=True)
    return summary
