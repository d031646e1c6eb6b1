"""The Celery task of a flow's asynchronous call: make the request (authflow.outbound), then resume the flow.

The flow service queues it by name when the round trip that recorded the
call commits (service.CALL_TASK); authflow.celery.registered_task imports
this module then, in any process (without a broker it runs inline), and the
worker finds it when it starts.  Logs name the flow and the call, never
header values, bodies or secrets.
"""
from __future__ import annotations

from authflow.celery import app
from authflow.outbound import results
from authflow.outbound.calls import TASK_TIME_LIMIT

from . import calls


# The name it had when it lived in authflow.outbound: tasks queued before an upgrade still find it.
@app.task(name="authflow.outbound.perform_call", ignore_result=True, soft_time_limit=TASK_TIME_LIMIT,
          time_limit=TASK_TIME_LIMIT + 10)
def perform_call(call_id: int, payload: str) -> None:
    made = results.make(call_id, payload)
    if made is not None:
        calls.deliver(made.call, made.outcome, answered_by=made.answered_by)
