"""Delivering a call's outcome to its flow: the worker's result, or "timeout" once the deadline passed.

    deliver(call, result, data, answered_by=...)  -> bool   journal the outcome at the call's position
    answer_if_overdue(flow)                        -> bool   "timeout" for a call whose deadline passed

The outcome goes through authflow.flows.service.resume_flow at the position
the call was recorded for, like an answer from the browser: exactly one
outcome reaches the flow.  The first to deliver claims the OutboundCall row;
a later one (the worker after the deadline answered, or the other way round)
finds it answered and does nothing, and a flow that moved on, ended or
expired meanwhile (StaleAnswer, FlowFinished, ...) keeps its course: the
outcome is only recorded.

Nobody has to be waiting for the deadline: the waiting page's status poll
and the flow page ask for it whenever they are loaded (waiting.py), so a
flow whose worker is down, whose server never answers or whose result was
lost still moves on, with onTimeout.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authflow.flows import service
from authflow.flows.models import LoginFlow
from sequences.api import call_answer

from .http import TIMED_OUT
from .models import OutboundCall

logger = logging.getLogger("authflow.outbound")


def deliver(call: OutboundCall, result: str, data, *, answered_by: str, http_status: int | None = None,
            detail: str = "") -> bool:
    """Journal the outcome in the flow and record it on the call; False when it did not reach the flow."""
    answer = call_answer(call.function, result, data)
    record = {"status": OutboundCall.Status.DONE, "outcome": result, "http_status": http_status,
              "detail": detail[:200], "answered_by": answered_by, "finished_at": timezone.now()}
    where = {"flow_id": str(call.flow_id), "call_id": call.pk, "function": call.function, "outcome": result,
             "answered_by": answered_by}
    try:
        with transaction.atomic():
            # Claim the call first (its row, then the flow's): of two deliverers one gets here.
            if not OutboundCall.objects.filter(pk=call.pk, status=OutboundCall.Status.PENDING).update(
                    delivered=True, **record):
                logger.info("outbound call outcome not delivered: the call was answered already", extra=where)
                return False
            service.resume_flow(call.flow_id, answer, position=call.position)
    except service.FlowError as exc:
        OutboundCall.objects.filter(pk=call.pk, status=OutboundCall.Status.PENDING).update(
            **{**record, "detail": f"not delivered ({exc.code}); {detail}"[:200]})
        logger.info("outbound call outcome not delivered: the flow did not wait for it any more",
                    extra={**where, "reason": exc.code})
        return False
    logger.info("outbound call outcome delivered", extra=where)
    return True


def answer_if_overdue(flow: LoginFlow) -> bool:
    """Answer "timeout" when the flow waits on a call whose deadline passed; True when it did."""
    pending = flow.pending or {}
    if flow.status != LoginFlow.Status.RUNNING or pending.get("type") != "call":
        return False
    now = timezone.now()
    call = OutboundCall.objects.filter(flow_id=flow.pk, position=pending.get("position")).first()
    if call is None:
        # Only a removed record gets here: the flow waited the call's whole time since it last moved.
        allowed = settings.AUTHFLOW_CALL_TIMEOUT_SECONDS + settings.AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS
        if flow.updated_at + timedelta(seconds=allowed) > now:
            return False
        try:
            service.resume_flow(flow.pk, call_answer(pending["function"], "timeout", {"error": TIMED_OUT}),
                                position=pending["position"])
        except service.FlowError:
            return False
        logger.warning("a call without its record was answered with a timeout", extra={"flow_id": str(flow.pk)})
        return True
    if call.status != OutboundCall.Status.PENDING or call.deadline > now:
        return False
    return deliver(call, "timeout", {"error": TIMED_OUT}, answered_by=OutboundCall.AnsweredBy.DEADLINE,
                   detail="no result before the deadline")
