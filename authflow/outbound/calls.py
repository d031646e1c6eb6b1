"""Starting an asynchronous call when a flow's round trip ends on one (used by authflow.flows.service).

    begin(flow, command, calls_made) -> an answer to journal now, or Queued (the flow waits for a worker)
    stored_command(command)          -> the command as LoginFlow.pending keeps it (no header values, body, secrets)

A call that cannot be made is answered at once with r="fail", without a task
or any network request, so the script's onFail runs in the same request: a
URL that is not http(s), has credentials in it or is not under an allowed
endpoint ({"error": "not allowed", "reason": ...}), a header or authConfig
that cannot be sent, a body that is too large (checks.py decides, as it
does for `manage.py simulate`), callAnalytics without an analytics endpoint.
Any other call is recorded (OutboundCall, pending, with its deadline) and
handed back as Queued: the flows app queues its task when the flow's
transaction commits, and the task makes the request (results.make) and
resumes the flow with the outcome.

The request itself (headers, body, authConfig) travels only in the task's
payload, encrypted with authflow.keys (purpose "outbound-call"): it is not
in the database, nor in Redis in clear, nor in the logs.

The analytics endpoint (AUTHFLOW_ANALYTICS_URL) is set by the operator, not
by a script, so it is trusted: it need not be on the allow-list.

This module never imports the flows layer: data flows one way, from the flow
service to here.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from authflow import keys
from authflow.vault.service import value_of
from sequences.api import call_answer

from . import allowlist, checks
from .checks import Refused
from .models import OutboundCall, allowed

logger = logging.getLogger("authflow.outbound")

PAYLOAD_PURPOSE = "outbound-call"
# What a call command carries that LoginFlow.pending must not keep (the engine recomputes it on each replay).
REDACTED = ("headers", "authConfig", "body", "metadata", "payload", "connection")
FUNCTIONS = {**checks.FUNCTIONS, "callAnalytics": "POST"}
MAX_BODY_BYTES = checks.MAX_BODY_BYTES
# Celery's limits for the tasks that make a request (under the prefork pool they stop one that trickles in).
TASK_TIME_LIMIT = 2 * settings.AUTHFLOW_CALL_TIMEOUT_SECONDS + settings.AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS + 10


class TooManyCalls(Exception):
    """The flow made AUTHFLOW_CALL_MAX_PER_FLOW calls already; `command` ends it with an error naming the limit."""

    def __init__(self, limit: int):
        message = f"the script made more than {limit} asynchronous calls (httpGet, httpPost, callChoreo, callAnalytics) in one login"
        super().__init__(message)
        self.command = {"type": "error", "kind": "limit", "message": message, "line": None, "column": None}


@dataclass(frozen=True)
class Queued:
    """A call recorded and waiting for a worker: the task's arguments (the request is sealed in `payload`)."""

    call_id: int
    payload: str


def stored_command(command: dict) -> dict:
    """The pending command as the flow keeps it: a call without its headers, body, authConfig or payload."""
    if command.get("type") != "call":
        return command
    return {key: value for key, value in command.items() if key not in REDACTED}


def begin(flow, command: dict, *, calls_made: int) -> dict | Queued:
    """Record the call `command` (the flow's next command) for a worker; or the answer to journal at once.

    `calls_made`: the calls the flow made before this one.  Runs inside the
    flow's transaction: when it rolls back, nothing was recorded.
    """
    limit = settings.AUTHFLOW_CALL_MAX_PER_FLOW
    if calls_made >= limit:
        logger.warning("outbound call refused: too many calls in one login", extra={
            "flow_id": str(flow.pk), "function": command.get("function"), "limit": limit})
        raise TooManyCalls(limit)
    function = command.get("function")
    now = timezone.now()
    try:
        request = _request(command)
    except Refused as refused:
        OutboundCall.objects.create(
            flow=flow, position=command["position"], function=str(function)[:32],
            method=FUNCTIONS.get(function, "")[:8], url=refused.url[:allowlist.MAX_URL_LENGTH],
            status=OutboundCall.Status.DONE, outcome=OutboundCall.Outcome.FAIL, detail=refused.detail[:200],
            answered_by=OutboundCall.AnsweredBy.AT_ONCE, delivered=True, deadline=now, finished_at=now)
        logger.warning("outbound call refused", extra={
            "flow_id": str(flow.pk), "function": function, "reason": refused.detail, "url": _loggable(refused.url)})
        return call_answer(function, "fail", refused.data)
    deadline = now + timedelta(seconds=settings.AUTHFLOW_CALL_TIMEOUT_SECONDS
                               + settings.AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS)
    call = OutboundCall.objects.create(flow=flow, position=command["position"], function=function,
                                       method=request["method"], url=request["url"], deadline=deadline)
    logger.info("outbound call queued", extra={"flow_id": str(flow.pk), "call_id": call.pk, "function": function,
                                               "method": request["method"], "url": _loggable(request["url"]),
                                               "position": call.position})
    return Queued(call.pk, keys.seal_json(request, purpose=PAYLOAD_PURPOSE))


def open_payload(sealed: str) -> dict:
    return keys.open_json(sealed, purpose=PAYLOAD_PURPOSE)


def _request(command: dict) -> dict:
    """What the task sends (checks.request_for; callAnalytics goes to the operator's endpoint)."""
    if command.get("function") == "callAnalytics":
        return _analytics_request(command)
    return checks.request_for(command, is_allowed=allowed, secret=value_of)


def _analytics_request(command: dict) -> dict:
    configured = settings.AUTHFLOW_ANALYTICS_URL
    if not configured:
        raise Refused({"error": "analytics is not configured"}, "no analytics endpoint (AUTHFLOW_ANALYTICS_URL)")
    try:
        address = allowlist.normalise(configured)
    except allowlist.NotAllowed as exc:
        raise Refused({"error": "analytics is not configured"}, f"AUTHFLOW_ANALYTICS_URL is not usable: {exc}") from None
    event = {"metadata": command.get("metadata") or {}, "payload": command.get("payload") or {}}
    body = json.dumps(event)
    if len(body.encode()) > MAX_BODY_BYTES:
        raise Refused({"error": "the payload is too large"}, "payload too large", address.url)
    return {"function": "callAnalytics", "method": "POST", "url": address.url, "analytics": True,
            "headers": {"Content-Type": "application/json"}, "body": event}


def _loggable(url: str) -> str:
    """A URL for the logs: without its query, which may carry personal data."""
    return (url or "").split("?", 1)[0][:300]
