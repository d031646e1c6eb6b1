"""The analytics endpoint: publishToAnalytics(metadata, payload) sends an event there, fire and forget.

The endpoint (AUTHFLOW_ANALYTICS_URL) receives POST {"metadata": {...},
"payload": {...}} as JSON and answers JSON; callAnalytics posts the same
shape and hands the answer to the script (calls.py).  It is configured by
the operator, not by scripts, so it is trusted and need not be on the
allow-list; AUTHFLOW_ANALYTICS_AUTHORIZATION, when set, is sent as its
Authorization header.

publish() runs as an effect, inside the flow's transaction: the event is
queued when it commits (once per login, however often the script replays)
and a worker posts it (publish_event, the Celery task).
"""
from __future__ import annotations

import json
import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction

from authflow import keys
from authflow.celery import app

from . import allowlist, http
from .calls import MAX_BODY_BYTES, PAYLOAD_PURPOSE, TASK_TIME_LIMIT, open_payload

logger = logging.getLogger("authflow.outbound")

RETRIES = 2


def endpoint() -> allowlist.Address | None:
    configured = settings.AUTHFLOW_ANALYTICS_URL
    if not configured:
        return None
    try:
        return allowlist.normalise(configured)
    except allowlist.NotAllowed as exc:
        logger.error("AUTHFLOW_ANALYTICS_URL is not a usable URL", extra={"reason": str(exc)})
        return None


def operator_headers() -> dict:
    token = settings.AUTHFLOW_ANALYTICS_AUTHORIZATION
    return {"Authorization": token} if token else {}


def publish(metadata, payload, *, flow_id: str | None = None) -> bool:
    """Queue the event for the analytics endpoint; False (and a log line) when there is none or it is too large."""
    where = {"flow_id": flow_id, "application": _name(metadata, "Application"),
             "input_stream": _name(metadata, "InputStream")}
    address = endpoint()
    if address is None:
        logger.warning("publishToAnalytics: no analytics endpoint is configured (AUTHFLOW_ANALYTICS_URL)",
                       extra=where)
        return False
    event = {"metadata": metadata if isinstance(metadata, dict) else {},
             "payload": payload if isinstance(payload, dict) else {}}
    body = json.dumps(event)
    if len(body.encode()) > MAX_BODY_BYTES:
        logger.warning("publishToAnalytics: the event is too large, not sent", extra=where)
        return False
    request = {"function": "publishToAnalytics", "method": "POST", "url": address.url, "analytics": True,
               "headers": {"Content-Type": "application/json"}, "body": event}
    sealed = keys.seal_json(request, purpose=PAYLOAD_PURPOSE)
    transaction.on_commit(lambda: _enqueue(sealed, where))
    logger.info("analytics event queued for sending after commit", extra=where)
    return True


def _name(metadata, key: str):
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return str(value)[:100] if value is not None else None


def _enqueue(sealed: str, where: dict) -> None:
    options = {"queue": settings.AUTHFLOW_CALL_QUEUE} if settings.AUTHFLOW_CALL_QUEUE else {}
    try:
        publish_event.apply_async(args=[sealed, where], **options)
    except Exception:  # the broker is down, or (inline) the post failed: the event is lost, the login goes on
        logger.exception("analytics event could not be queued or sent", extra=where)


@app.task(name="authflow.outbound.publish_event", bind=True, ignore_result=True, max_retries=RETRIES,
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
