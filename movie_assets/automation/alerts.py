"""Alerts: one chat message per failed run, POSTed to the webhook ``MOVIES_ALERT_WEBHOOK_URL``.

The message is Slack's incoming-webhook JSON, ``{"text": "…"}`` (Mattermost, Rocket.Chat and
Microsoft Teams' workflows accept the same shape). The sensor :data:`RUN_FAILURE_ALERT_SENSOR`
(Dagster's ``run_failure_sensor``, evaluated by the daemon) sends one per failed run, whoever
started it; :mod:`movie_assets.automation.freshness` sends one per newly failing freshness check
through the same :class:`AlertWebhook`.

The webhook URL is a secret (a Slack webhook's path is its credential): the resource reads it
from :class:`~movie_assets.settings.Settings` when it sends, so it is in no resource
configuration the UI shows, and it is kept out of errors and of urllib3's own log lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from dagster import (
    AssetCheckEvaluation,
    ConfigurableResource,
    DagsterEventType,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SkipReason,
    run_failure_sensor,
)
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RUN_FAILURE_ALERT_SENSOR = "run_failure_alert_sensor"
WEBHOOK_VARIABLE = "MOVIES_ALERT_WEBHOOK_URL"
#: Steps or checks listed by name in one message; the rest are counted.
MAX_LISTED = 10
#: The loggers of urllib3 that print a request's path (a retry, a redirect, the request line).
URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry", "urllib3.connection")
REDACTED = "<alert webhook>"


class AlertDeliveryError(RuntimeError):
    """The webhook did not take the alert: it answered with a non-2xx status after the retries,
    or could not be reached. The message names the status or the kind of error, never the URL."""


class _RedactWebhook(logging.Filter):
    """Replaces the webhook's URL, and its path, in a log record's message."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@contextmanager
def _webhook_redacted_from_urllib3_logs(url: str) -> Iterator[None]:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    redact = _RedactWebhook([url, path if path.strip("/") else ""])
    loggers = [logging.getLogger(name) for name in URLLIB3_LOGGERS]
    for logger in loggers:
        logger.addFilter(redact)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redact)


def post_alert(url: SecretStr, text: str, *, timeout: float = 10.0, max_retries: int = 3, backoff_factor: float = 0.5) -> None:
    """POST ``{"text": text}`` as JSON to ``url``, retrying connection errors, 429 and 5xx
    ``max_retries`` times (urllib3's ``Retry``, waits ``backoff_factor * 2**n`` seconds, a
    ``Retry-After`` header honoured). Redirects are not followed.

    Raises:
        AlertDeliveryError: the last answer was not 2xx ("alert webhook answered 500"), or
            the webhook was unreachable; neither message nor traceback holds the URL.
    """
    retry = Retry(
        total=max_retries,
        backoff_factor=backoff_factor,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"POST"}),
        raise_on_status=False,
    )
    secret = url.get_secret_value()
    with requests.Session() as session, _webhook_redacted_from_urllib3_logs(secret):
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            response = session.post(secret, json={"text": text}, timeout=timeout, allow_redirects=False)
        except requests.RequestException as error:
            # requests' messages quote the URL; only the kind of error is kept, without a chain.
            raise AlertDeliveryError(f"alert webhook unreachable ({type(error).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise AlertDeliveryError(f"alert webhook answered {response.status_code}")


class AlertWebhook(ConfigurableResource):
    """Sends alerts to ``MOVIES_ALERT_WEBHOOK_URL`` (read from
    :class:`~movie_assets.settings.Settings` at each send, never part of this configuration).

    Attributes:
        ui_url: the Dagster UI's address, for links (``Settings.ui_url``).
        timeout: connect and read timeout of a POST, seconds.
        max_retries: retries of a POST on connection errors, 429 and 5xx.
    """

    ui_url: str = "http://127.0.0.1:3000"
    timeout: float = 10.0
    max_retries: int = 3

    def webhook_url(self) -> SecretStr | None:
        """The configured webhook URL, or None when ``MOVIES_ALERT_WEBHOOK_URL`` is unset.

        Raises:
            movie_assets.settings.InvalidSettings: the configuration no longer validates.
        """
        from movie_assets.settings import load_settings_or_explain

        return load_settings_or_explain().alert_webhook_url

    def run_url(self, run_id: str) -> str:
        """The run's page in the UI."""
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}"

    def send(self, url: SecretStr, text: str) -> None:
        """POST ``{"text": text}`` to ``url`` (:func:`post_alert`).

        Raises:
            AlertDeliveryError: the webhook refused or could not be reached.
        """
        post_alert(url, text, timeout=self.timeout, max_retries=self.max_retries)


def first_line(text: str | None) -> str:
    """The first non-blank line of ``text``, stripped ('' for none)."""
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def root_error_line(error) -> str:
    """The first line of the innermost cause of a Dagster ``SerializableErrorInfo`` (the user
    code's own exception, not Dagster's "Error occurred while executing op" wrapper)."""
    while error is not None and error.cause is not None:
        error = error.cause
    return first_line(error.message) if error is not None else ""


@dataclass(frozen=True)
class FailedRun:
    """What an alert says about a failed run.

    Attributes:
        job: the job's name (``daily_refresh``, ``__ASSET_JOB`` for an ad-hoc selection).
        partition: the partition key (``YYYY-MM-DD``) or None.
        steps: ``(step key, first line of its error)`` of each failed step.
        checks: ``(asset/key:check name, severity, first line of the description)`` of each
            failed asset check.
        reason: the first line of the run's own failure message, for a run that failed
            outside a step (a crashed run worker, a resource that would not start).
        run_url: the run's page in the UI.
    """

    job: str
    partition: str | None
    steps: list[tuple[str, str]]
    checks: list[tuple[str, str, str]]
    reason: str
    run_url: str


def _listed(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    more = [f"  … and {len(lines) - MAX_LISTED} more"] if len(lines) > MAX_LISTED else []
    return [title, *(f"  • {line}" for line in lines[:MAX_LISTED]), *more]


def run_failure_text(failed: FailedRun) -> str:
    """The alert's text, for example::

    Run failed: daily_refresh, partition 2026-12-04
    Failed steps:
      • bronze__tmdb_movies: FileNotFoundError: … ids/movies.csv
    Run: http://127.0.0.1:3000/runs/6f0c…
    """
    head = f"Run failed: {failed.job}, " + (f"partition {failed.partition}" if failed.partition else "no partition")
    steps = [f"{step}: {error}" if error else step for step, error in failed.steps]
    checks = [f"{name} ({severity})" + (f": {description}" if description else "") for name, severity, description in failed.checks]
    reason = [f"Reason: {failed.reason}"] if failed.reason and not (steps or checks) else []
    return "\n".join([head, *_listed("Failed steps:", steps), *_listed("Failed checks:", checks), *reason, f"Run: {failed.run_url}"])


def describe_failed_run(context: RunFailureSensorContext, run_url: str) -> FailedRun:
    """The :class:`FailedRun` of the sensor's run, from its step failure and check evaluation
    events in the instance."""
    run = context.dagster_run
    steps = [
        (event.step_key or "?", root_error_line(event.step_failure_data.error) if event.step_failure_data else "")
        for event in context.get_step_failure_events()
    ]
    checks = []
    for entry in context.instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation: AssetCheckEvaluation = entry.dagster_event.event_specific_data
        if not evaluation.passed:
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            checks.append((name, evaluation.severity.value, first_line(evaluation.description)))
    failure = context.failure_event
    error = getattr(failure.event_specific_data, "error", None)
    reason = root_error_line(error) if error is not None else first_line(failure.message)
    return FailedRun(run.job_name, context.partition_key, steps, checks, reason, run_url)


def no_webhook_reason(what: str) -> SkipReason:
    """The skip of an alert sensor without a webhook, naming what was not sent."""
    return SkipReason(f"{WEBHOOK_VARIABLE} is not set: no alert sent for {what}")


@run_failure_sensor(
    name=RUN_FAILURE_ALERT_SENSOR,
    # Every run of the instance, including the in-process runs of the CLI, which carry no
    # code location of their own.
    monitor_all_code_locations=True,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=f"POSTs one message per failed run (job, partition, failed steps and checks, the run's link) "
    f"to {WEBHOOK_VARIABLE}; skips, saying so, while it is unset.",
)
def run_failure_alert_sensor(context: RunFailureSensorContext, alert_webhook: AlertWebhook) -> SkipReason | None:
    """Alert for one failed run. Dagster's run-status cursor hands each failed run to this
    function once; an error here (:class:`AlertDeliveryError`) shows on the tick and the run.

    Raises:
        AlertDeliveryError: the webhook refused the message or could not be reached.
    """
    run = context.dagster_run
    url = alert_webhook.webhook_url()
    if url is None:
        return no_webhook_reason(f"the failed run {run.run_id} of {run.job_name}")
    alert_webhook.send(url, run_failure_text(describe_failed_run(context, alert_webhook.run_url(run.run_id))))
    context.log.info(f"alert sent for the failed run {run.run_id} of {run.job_name}")
    return None
