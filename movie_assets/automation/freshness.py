"""Freshness: has today's TMDB snapshot landed, and is the readers' snapshot recent?

Two asset checks from Dagster's freshness-check factories, evaluated by the daemon through
the sensor :data:`FRESHNESS_CHECKS_SENSOR` (``build_sensor_for_freshness_checks``):

- ``bronze/tmdb_movies:freshness_check``: from ``MOVIES_BRONZE_DEADLINE_UTC`` (08:00) on, today's
  (UTC) partition has been materialized; before it, yesterday's
  (``build_time_partition_freshness_checks``; the daily partitions end with today, so the
  window the deadline completes is today's).
- ``serving/warehouse_snapshot:freshness_check``: the last publication is at most
  ``MOVIES_SNAPSHOT_MAX_AGE_HOURS`` (26) hours old (``build_last_update_freshness_checks``).

Dagster 1.12 marked these factories superseded by ``FreshnessPolicy`` on assets. That policy
judges an asset as a whole (a backfill of an old day would make it look fresh), needs an
instance setting, and reports no check result in open-source Dagster, so the checks stay: a
partition-aware verdict with a result in the UI's check history and an event to alert on.

The sensor :data:`FRESHNESS_ALERT_SENSOR` alerts once per check that starts failing, through
:class:`~movie_assets.automation.alerts.AlertWebhook`; its cursor is the set of checks
already alerted, and a check leaves it when it passes again.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from datetime import timedelta

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SupersessionWarning,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
    build_time_partition_freshness_checks,
    sensor,
)

from movie_assets.automation.alerts import AlertDeliveryError, AlertWebhook, first_line, no_webhook_reason
from movie_assets.settings import Settings

TMDB_MOVIES = AssetKey(["bronze", "tmdb_movies"])
PUBLISHED_SNAPSHOT = AssetKey(["serving", "warehouse_snapshot"])
FRESHNESS_CHECKS_SENSOR = "freshness_checks_sensor"
FRESHNESS_ALERT_SENSOR = "freshness_alert_sensor"


def bronze_deadline_cron(settings: Settings) -> str:
    """The daily cron of ``MOVIES_BRONZE_DEADLINE_UTC``, e.g. ``0 8 * * *``."""
    deadline = settings.bronze_deadline_utc
    return f"{deadline.minute} {deadline.hour} * * *"


def build_freshness_checks(settings: Settings) -> list[AssetChecksDefinition]:
    """The two freshness checks (ERROR severity, not blocking): today's
    ``bronze/tmdb_movies`` partition by ``settings.bronze_deadline_utc``, and the published
    snapshot at most ``settings.snapshot_max_age_hours`` old."""
    with warnings.catch_warnings():
        # The choice of checks over FreshnessPolicy is explained in the module's docstring.
        warnings.simplefilter("ignore", SupersessionWarning)
        return [
            *build_time_partition_freshness_checks(
                assets=[TMDB_MOVIES], deadline_cron=bronze_deadline_cron(settings), timezone="UTC", severity=AssetCheckSeverity.ERROR
            ),
            *build_last_update_freshness_checks(
                assets=[PUBLISHED_SNAPSHOT],
                lower_bound_delta=timedelta(hours=settings.snapshot_max_age_hours),
                severity=AssetCheckSeverity.ERROR,
            ),
        ]


def freshness_check_keys(checks: Sequence[AssetChecksDefinition]) -> list[AssetCheckKey]:
    """The check keys of ``checks``, sorted by their ``asset/key:check`` name."""
    return sorted((key for definition in checks for key in definition.check_keys), key=lambda key: key.to_user_string())


def build_freshness_checks_sensor(checks: Sequence[AssetChecksDefinition]) -> SensorDefinition:
    """Dagster's sensor that runs ``checks`` when they are due (a passed check once its
    verdict can have changed, a failed one after its asset was materialized again); on by
    default, every 60 s while the daemon runs. Its runs only read the instance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SupersessionWarning)
        return build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name=FRESHNESS_CHECKS_SENSOR,
            minimum_interval_seconds=60,
            default_status=DefaultSensorStatus.RUNNING,
        )


def latest_evaluations(context: SensorEvaluationContext, keys: Sequence[AssetCheckKey]) -> dict[AssetCheckKey, tuple[AssetCheckEvaluation, str]]:
    """``{check key: (latest completed evaluation, its run id)}``; a check never evaluated, or
    being evaluated right now, is left out."""
    evaluations = {}
    for key in keys:
        record = context.instance.get_latest_asset_check_evaluation_record(key)
        evaluation = record.event.asset_check_evaluation if record is not None and record.event is not None else None
        if evaluation is not None:
            evaluations[key] = (evaluation, record.run_id)
    return evaluations


def freshness_failure_text(key: AssetCheckKey, evaluation: AssetCheckEvaluation, ui_url: str, run_id: str) -> str:
    """The alert's text, for example::

    Freshness check failed: bronze/tmdb_movies:freshness_check (ERROR)
    Asset is overdue. We expected partition 2026-12-04 to have arrived, and it has not.
    Asset: http://127.0.0.1:3000/assets/bronze/tmdb_movies
    Run: http://127.0.0.1:3000/runs/1c9e…
    """
    base = ui_url.rstrip("/")
    return "\n".join(
        line
        for line in (
            f"Freshness check failed: {key.to_user_string()} ({evaluation.severity.value})",
            first_line(evaluation.description),
            f"Asset: {base}/assets/{'/'.join(key.asset_key.path)}",
            f"Run: {base}/runs/{run_id}",
        )
        if line
    )


def build_freshness_alert_sensor(checks: Sequence[AssetChecksDefinition]) -> SensorDefinition:
    """The sensor that alerts once per newly failing check of ``checks``.

    Cursor: a JSON list of the ``asset/key:check`` names already alerted and still failing.
    A message the webhook did not take is tried again at the next tick.
    """
    keys = freshness_check_keys(checks)

    @sensor(
        name=FRESHNESS_ALERT_SENSOR,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="POSTs one message to MOVIES_ALERT_WEBHOOK_URL when a freshness check starts failing "
        "(today's TMDB partition missing at the deadline, the published snapshot too old).",
    )
    def freshness_alert_sensor(context: SensorEvaluationContext, alert_webhook: AlertWebhook) -> SensorResult:
        alerted = set(json.loads(context.cursor)) if context.cursor else set()
        evaluations = latest_evaluations(context, keys)
        alerted -= {key.to_user_string() for key, (evaluation, _) in evaluations.items() if evaluation.passed}
        newly_failing = [key for key, (evaluation, _) in evaluations.items() if not evaluation.passed and key.to_user_string() not in alerted]
        names = ", ".join(key.to_user_string() for key in newly_failing)
        if not newly_failing:
            return SensorResult(skip_reason="no freshness check started failing", cursor=json.dumps(sorted(alerted)))
        url = alert_webhook.webhook_url()
        if url is None:
            return SensorResult(skip_reason=no_webhook_reason(names), cursor=json.dumps(sorted(alerted)))
        undelivered = []
        for key in newly_failing:
            evaluation, run_id = evaluations[key]
            try:
                alert_webhook.send(url, freshness_failure_text(key, evaluation, alert_webhook.ui_url, run_id))
            except AlertDeliveryError as error:
                context.log.error(f"{error}: the alert for {key.to_user_string()} is tried again at the next tick")
                undelivered.append(str(error))
                continue
            alerted.add(key.to_user_string())
        outcome = f"alerted: {names}" if not undelivered else f"{len(undelivered)} of {len(newly_failing)} alerts not taken ({undelivered[0]})"
        return SensorResult(skip_reason=outcome, cursor=json.dumps(sorted(alerted)))

    return freshness_alert_sensor
