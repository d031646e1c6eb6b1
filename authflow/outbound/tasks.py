"""The Celery tasks of outbound calls, where the worker's autodiscovery finds them.

The task that makes a call a flow waits on, and resumes the flow with its
outcome, belongs to the flows app (authflow/flows/tasks.py); the one here
posts publishToAnalytics's events to the analytics endpoint (analytics.py queues them).
"""
from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from authflow import keys
from authflow.celery import app

from . import http
from .analytics import PUBLISH_TASK, RETRIES, operator_headers
from .calls import TASK_TIME_LIMIT, open_payload

logger = logging.getLogger("authflow.outbound")


@app.task(name=PUBLISH_TASK, bind=True, ignore_result=True, max_retries=RETRIES,
          soft_time_limit=TASK_TIME_LIMIT, time_limit=TASK_TIME_LIMIT + 10)
def publish_event(self, sealed: str, where: dict | None = None) -> bool:
    """publishToAnalytics: post the event; a connection failure or a 5xx is retried twice (not inline)."""
    where = dict(where or {}, attempt=self.request.retries + 1)
    try:
        request = open_payload(sealed)
    except (keys.InvalidValue, ValueError):
        logger.error("analytics event not sent: its payload does not decrypt", extra=where)
        return False
    try:
        outcome = http.perform(request, timeout=settings.AUTHFLOW_CALL_TIMEOUT_SECONDS,
                               max_bytes=settings.AUTHFLOW_CALL_MAX_RESPONSE_BYTES,
                               extra_headers=operator_headers(), guard_addresses=False)
    except SoftTimeLimitExceeded:
        outcome = http.timed_out()
    status = outcome.http_status
    temporary = outcome.result == "timeout" or status is None or status >= 500
    if outcome.result == "success" or (status is not None and 200 <= status < 300):  # any 2xx: the answer is not used
        logger.info("analytics event sent", extra={**where, "http_status": outcome.http_status})
        return True
    if temporary and not self.request.is_eager and self.request.retries < RETRIES:
        logger.warning("analytics event not sent yet, will retry", extra={**where, "detail": outcome.detail})
        raise self.retry(countdown=2 ** (self.request.retries + 1))
    logger.error("analytics event not sent", extra={**where, "detail": outcome.detail,
                                                     "http_status": outcome.http_status})
    return False
