"""A call's outcome: what its request gave (a worker makes it), or "timeout" once its deadline passed.

    make(call_id, payload)                   -> Made | None   make the request of a call that still waits
    call_at(flow_id, position)               -> the call recorded for a flow's position, or None
    is_overdue(call)                         -> whether it still waits after its deadline
    claim(call, outcome, answered_by=...)    -> bool          record the outcome; False when it had one
    not_delivered(call, outcome, ..., reason)                 record an outcome the flow no longer waited for

This module never imports the flows layer: the flows app delivers an outcome
to its flow (authflow.flows.calls), claiming the call and resuming the flow
in one transaction, so that exactly one outcome reaches the flow.

Logs name the flow and the call, never header values, bodies or secrets.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from authflow import keys

from . import analytics, credentials, http
from .calls import open_payload
from .models import OutboundCall, allowed

logger = logging.getLogger("authflow.outbound")

AnsweredBy = OutboundCall.AnsweredBy


@dataclass(frozen=True)
class Made:
    """What became of a call: its outcome, and who answered it (the worker, or the deadline)."""

    call: OutboundCall
    outcome: http.Outcome
    answered_by: str


def make(call_id: int, payload: str) -> Made | None:
    """Make the request of call `call_id` (`payload`: calls.begin's sealed request); None when it has its outcome.

    Tried once (the user is waiting): within AUTHFLOW_CALL_TIMEOUT_SECONDS and
    never past the call's deadline (a worker that takes it late has less time;
    one that takes it after the deadline answers "timeout" without a request).
    """
    call = OutboundCall.objects.filter(pk=call_id).first()
    if call is None or call.status != OutboundCall.Status.PENDING:
        logger.info("outbound call skipped: it was answered already", extra={"call_id": call_id})
        return None
    where = {"flow_id": str(call.flow_id), "call_id": call.pk, "function": call.function}
    left = min(settings.AUTHFLOW_CALL_TIMEOUT_SECONDS, (call.deadline - timezone.now()).total_seconds())
    if left <= 0:
        logger.warning("outbound call not made: the worker took it after its deadline", extra=where)
        return Made(call, http.Outcome("timeout", {"error": http.TIMED_OUT}, None, "taken after the deadline"),
                    AnsweredBy.DEADLINE)
    try:
        request = open_payload(payload)
    except (keys.InvalidValue, ValueError):
        logger.error("outbound call not made: its payload does not decrypt (keys changed?)", extra=where)
        return Made(call, http.Outcome("fail", {"error": "the call could not be made"}, None,
                                       "payload does not decrypt"), AnsweredBy.WORKER)
    # make() runs in the Celery worker (or inline): web workers read results without importing Celery.
    from celery.exceptions import SoftTimeLimitExceeded

    started = time.monotonic()
    try:
        outcome = credentials.perform(
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
    return Made(call, outcome, AnsweredBy.WORKER)


def call_at(flow_id, position) -> OutboundCall | None:
    """The call recorded for the flow's `position`; None only when its record was removed."""
    return OutboundCall.objects.filter(flow_id=flow_id, position=position).first()


def is_overdue(call: OutboundCall) -> bool:
    """Whether the call still waits for its outcome after its deadline."""
    return call.status == OutboundCall.Status.PENDING and call.deadline <= timezone.now()


def longest_wait() -> timedelta:
    """How long a flow may wait on a call: its time, and the margin after which its deadline answers."""
    return timedelta(seconds=settings.AUTHFLOW_CALL_TIMEOUT_SECONDS + settings.AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS)


def deadline_passed() -> http.Outcome:
    """The outcome of a call that had no result before its deadline."""
    return http.Outcome("timeout", {"error": http.TIMED_OUT}, None, "no result before the deadline")


def claim(call: OutboundCall, outcome: http.Outcome, *, answered_by: str) -> bool:
    """Record `outcome` as the call's, as delivered; False when the call had one already (another got there first)."""
    return bool(OutboundCall.objects.filter(pk=call.pk, status=OutboundCall.Status.PENDING).update(
        delivered=True, **_record(outcome, answered_by, outcome.detail)))


def not_delivered(call: OutboundCall, outcome: http.Outcome, *, answered_by: str, reason: str) -> None:
    """Record `outcome` as the call's when it could not reach the flow (it moved on, ended or expired)."""
    OutboundCall.objects.filter(pk=call.pk, status=OutboundCall.Status.PENDING).update(
        **_record(outcome, answered_by, f"not delivered ({reason}); {outcome.detail}"))


def _record(outcome: http.Outcome, answered_by: str, detail: str) -> dict:
    return {"status": OutboundCall.Status.DONE, "outcome": outcome.result, "http_status": outcome.http_status,
            "detail": detail[:200], "answered_by": answered_by, "finished_at": timezone.now()}
