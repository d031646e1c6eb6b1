"""The Celery task that sends a text message; queued after the transaction that issued its code commits.

The message reaches the task sealed (authflow.keys), so a code never sits
in the broker in clear.  A gateway that is down or answers 5xx/429 is
retried with the mail task's backoff; a refusal (4xx, a gateway not on the
allow-list) is logged and dropped.  Inline (no broker) it tries once.
Neither the number nor the text is logged.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from authflow import keys
from authflow.celery import app
from authflow.mail.tasks import backoff

from .senders import SendFailed, sender

logger = logging.getLogger("authflow.sms")

PAYLOAD_PURPOSE = "outgoing-sms"
MAX_RETRIES = 4


@app.task(name="authflow.sms.send_text", bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def send_text(self, sealed: str, where: dict | None = None) -> bool:
    where = dict(where or {}, attempt=self.request.retries + 1)
    message = keys.open_json(sealed, purpose=PAYLOAD_PURPOSE)
    try:
        sender().send(message["to"], message["text"])
    except SendFailed as exc:
        if exc.retry and not self.request.is_eager:
            logger.warning("text message not sent yet, will retry", extra={**where, "reason": exc.reason})
            raise self.retry(exc=exc, countdown=backoff(self.request.retries))
        logger.error("text message not sent", extra={**where, "reason": exc.reason})
        return False
    logger.info("text message sent", extra=where)
    return True


def queue_text(to: str, text: str, *, flow_id: str | None = None) -> None:
    """Send `text` to the number `to` once the current transaction commits."""
    where = {"flow_id": flow_id}
    sealed = keys.seal_json({"to": to, "text": text}, purpose=PAYLOAD_PURPOSE)

    def enqueue():
        options = {"queue": settings.AUTHFLOW_SMS_QUEUE} if getattr(settings, "AUTHFLOW_SMS_QUEUE", "") else {}
        try:
            send_text.apply_async(args=[sealed, where], **options)
        except Exception:  # noqa: BLE001 - the broker is down: the user can ask for another code
            logger.exception("text message could not be queued", extra=where)

    transaction.on_commit(enqueue)
    logger.info("text message queued for sending after commit", extra=where)
