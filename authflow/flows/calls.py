"""A call's outcome delivered to the flow that waits on it: the worker's result, or "timeout" after its deadline.

    deliver(call, outcome, answered_by=...) -> bool   journal the outcome at the call's position
    answer_if_overdue(flow)                 -> bool   "timeout" for a call whose deadline passed

The outcome goes through service.resume_flow at the position the call was
recorded for, like an answer from the browser: exactly one outcome reaches
the flow.  The first to deliver claims the call's record (outbound.results)
in the same transaction; a later one (the worker after the deadline
answered, or the other way round) finds it answered and does nothing, and a
flow that moved on, ended or expired meanwhile (StaleAnswer, FlowFinished,
...) keeps its course: the outcome is only recorded.

Nobody has to be waiting for the deadline: the waiting page's status poll
and the flow page ask for it whenever they are loaded (authflow.login.waiting),
so a flow whose worker is down, whose server never answers or whose result
was lost still moves on, with onTimeout.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from authflow.outbound import http, results
from sequences.api import call_answer

from . import service

logger = logging.getLogger("authflow.outbound")


def deliver(call, outcome: http.Outcome, *, answered_by: str) -> bool:
    """Journal `outcome` in the call's flow and record it on the call; False when it did not reach the flow."""
    answer = call_answer(call.function, outcome.result, outcome.data)
    where = {"flow_id": str(call.flow_id), "call_id": call.pk, "function": call.function, "outcome": outcome.result,
             "answered_by": answered_by}
    try:
        with transaction.atomic():
            # Claim the call first (its row, then the flow's): of two deliverers one gets here.
            if not results.claim(call, outcome, answered_by=answered_by):
                logger.info("outbound call outcome not delivered: the call was answered already", extra=where)
                return False
            service.resume_flow(call.flow_id, answer, position=call.position)
    except service.FlowError as exc:
        results.not_delivered(call, outcome, answered_by=answered_by, reason=exc.code)
        logger.info("outbound call outcome not delivered: the flow did not wait for it any more",
                    extra={**where, "reason": exc.code})
        return False
    logger.info("outbound call outcome delivered", extra=where)
    return True


def answer_if_overdue(flow) -> bool:
    """Answer "timeout" when the flow waits on a call whose deadline passed; True when it did."""
    pending = flow.pending or {}
    if not service.is_running(flow) or pending.get("type") != "call":
        return False
    call = results.call_at(flow.pk, pending.get("position"))
    if call is None:
        # Only a removed record gets here: the flow waited the call's whole time since it last moved.
        if flow.updated_at + results.longest_wait() > timezone.now():
            return False
        try:
            service.resume_flow(flow.pk, call_answer(pending["function"], "timeout", {"error": http.TIMED_OUT}),
                                position=pending["position"])
        except service.FlowError:
            return False
        logger.warning("a call without its record was answered with a timeout", extra={"flow_id": str(flow.pk)})
        return True
    if not results.is_overdue(call):
        return False
    return deliver(call, results.deadline_passed(), answered_by=results.AnsweredBy.DEADLINE)
