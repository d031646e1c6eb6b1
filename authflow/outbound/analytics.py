"""The analytics endpoint: publishToAnalytics(metadata, payload) sends an event there, fire and forget.

The endpoint (AUTHFLOW_ANALYTICS_URL) receives POST {"metadata": {...},
"payload": {...}} as JSON and answers JSON; callAnalytics posts the same
shape and hands the answer to the script (calls.py).  It is configured by
the operator, not by scripts, so it is trusted and need not be on the
allow-list; AUTHFLOW_ANALYTICS_AUTHORIZATION, when set, is sent as its
Authorization header.

publish() runs as an effect, inside the flow's transaction: the event is
queued when it commits (once per login, however often the script replays)
and a worker posts it (publish_event, the Celery task in tasks.py).
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction

from authflow import keys

from . import allowlist
from .calls import MAX_BODY_BYTES, PAYLOAD_PURPOSE

logger = logging.getLogger("authflow.outbound")

RETRIES = 2
# The Celery task that posts an event (tasks.py), queued by name.
PUBLISH_TASK = "authflow.outbound.publish_event"


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
    from authflow.celery import registered_task  # Celery is imported by the first event, not at startup

    try:
        registered_task(PUBLISH_TASK).apply_async(args=[sealed, where], **options)
    except Exception:  # the broker is down, or (inline) the post failed: the event is lost, the login goes on
        logger.exception("analytics event could not be queued or sent", extra=where)
