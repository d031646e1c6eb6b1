"""The Celery tasks: make a call a flow waits on and deliver its outcome; post an analytics event.

A call is tried once (the user is waiting): within AUTHFLOW_CALL_TIMEOUT_SECONDS,
and never past the call's deadline (a task that starts late has less time;
one that starts after the deadline answers "timeout" without a request).
Under the prefork pool Celery's time limits stop a request that trickles in
byte by byte; the flow's deadline answers the user in any case.

Logs name the flow and the call, never header values, bodies or secrets.
"""
from __future__ import annotations

import logging
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from authflow import keys
from authflow.celery import app

from . import analytics, http
from .calls import open_payload
from .models import OutboundCall, allowed
from .results import deliver

logger = logging.getLogger("authflow.outbound")

_LIMIT = 2 * settings.AUTHFLOW_CALL_TIMEOUT_SECONDS + settings.AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS + 10
ANALYTICS_RETRIES = 2


@app.task(name="authflow.outbound.perform_call", ignore_result=True, soft_time_limit=_LIMIT,
          time_limit=_LIMIT + 10)
def perform_call(call_id: int, sealed: str) -> None:
    call = OutboundCall.objects.filter(pk=call_id).first()
    if call is None or call.status != OutboundCall.Status.PENDING:
        logger.info("outbound call skipped: it was answered already", extra={"call_id": call_id})
        return
    where = {"flow_id": str(call.flow_id), "call_id": call.pk, "function": call.function}
    left = min(settings.AUTHFLOW_CALL_TIMEOUT_SECONDS, (call.deadline - timezone.now()).total_seconds())
    if left <= 0:
        logger.warning("outbound call not made: the worker took it after its deadline", extra=where)
        deliver(call, "timeout", {"error": http.TIMED_OUT}, answered_by=OutboundCall.AnsweredBy.DEADLINE,
                detail="taken after the deadline")
        return
    try:
        request = open_payload(sealed)
    except (keys.InvalidValue, ValueError):
        logger.error("outbound call not made: its payload does not decrypt (keys changed?)", extra=where)
        deliver(call, "fail", {"error": "the call could not be made"}, answered_by=OutboundCall.AnsweredBy.WORKER,
                detail="payload does not decrypt")
        return
    started = time.monotonic()
    try:
        outcome = http.perform(
            request, timeout=left, max_bytes=settings.AUTHFLOW_CALL_MAX_RESPONSE_BYTES,
            may_follow=(lambda address: False) if request.get("analytics") else allowed,
            extra_headers=analytics.operator_headers() if request.get("analytics") else None,
            guard_addresses=not request.get("analytics"))  # the operator's own endpoint may be internal
    except SoftTimeLimitExceeded:
        outcome = http.timed_out()
    except Exception:  # a bug must not leave the flow waiting until its deadline
        logger.exception("outbound call failed unexpectedly", extra=where)
        outcome = http.Outcome("fail", {"error": "the call failed"}, None, "unexpected error")
    logger.info("outbound call made", extra={**where, "outcome": outcome.result, "http_status": outcome.http_status,
                                             "detail": outcome.detail,
                                             "elapsed_ms": round((time.monotonic() - started) * 1000)})
    deliver(call, outcome.result, outcome.data, answered_by=OutboundCall.AnsweredBy.WORKER,
            http_status=outcome.http_status, detail=outcome.detail)


@app.task(name="authflow.outbound.publish_event", bind=True, ignore_result=True, max_retries=ANALYTICS_RETRIES,
          soft_time_limit=_LIMIT, time_limit=_LIMIT + 10)
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
                               extra_headers=analytics.operator_headers(), guard_addresses=False)
    except SoftTimeLimitExceeded:
        outcome = http.timed_out()
    status = outcome.http_status
    temporary = outcome.result == "timeout" or status is None or status >= 500
    if outcome.result == "success" or (status is not None and 200 <= status < 300):  # any 2xx: the answer is not used
        logger.info("analytics event sent", extra={**where, "http_status": outcome.http_status})
        return True
    if temporary and not self.request.is_eager and self.request.retries < ANALYTICS_RETRIES:
        logger.warning("analytics event not sent yet, will retry", extra={**where, "detail": outcome.detail})
        raise self.retry(countdown=2 ** (self.request.retries + 1))
    logger.error("analytics event not sent", extra={**where, "detail": outcome.detail,
                                                     "http_status": outcome.http_status})
    return False
