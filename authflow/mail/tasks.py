"""The Celery task that sends an email through Django's email backend (SMTP in production).

Temporary SMTP failures (connection refused or dropped, 4xx replies) are
retried with exponential backoff and jitter; permanent ones (5xx, the
recipient refused) are logged and dropped, since retrying cannot help.
Run inline (the embedded default, no broker) it tries once.  The message
reaches it sealed (seal_message), so that it never sits in the broker in clear.
"""
from __future__ import annotations

import logging
import os
import random
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from authflow import keys
from authflow.celery import app

logger = logging.getLogger("authflow.mail")

PAYLOAD_PURPOSE = "outgoing-mail"

MAX_RETRIES = 6
# Operators (and the tests) may shorten the first delay.
BACKOFF_SECONDS = float(os.environ.get("AUTHFLOW_MAIL_RETRY_SECONDS", "5"))
BACKOFF_MAX_SECONDS = 300


def seal_message(message: dict) -> str:
    """The task's argument for `message` ({"to", "subject", "text", "html"}): encrypted with the server's keys."""
    return keys.seal_json(message, purpose=PAYLOAD_PURPOSE)


def backoff(retries: int) -> float:
    """Seconds before retry number `retries + 1`: 5, 10, 20, ... up to 5 minutes, with up to 20% jitter."""
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2 ** retries)
    return delay * (1 + random.random() / 5)


@app.task(name="authflow.mail.send_message", bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def send_message(self, sealed: str, where: dict | None = None) -> bool:
    where = dict(where or {}, attempt=self.request.retries + 1)
    message = keys.open_json(sealed, purpose=PAYLOAD_PURPOSE)
    email = EmailMultiAlternatives(subject=message["subject"], body=message["text"],
                                   from_email=settings.DEFAULT_FROM_EMAIL, to=[message["to"]])
    if message.get("html"):
        email.attach_alternative(message["html"], "text/html")
    if self.request.is_eager:
        # Inline (no broker): one try; a failure reaches the caller, which logs it (service._enqueue),
        # instead of retrying in the request without the backoff.
        email.send(fail_silently=False)
        logger.info("email sent", extra=where)
        return True
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and min(codes) >= 500:
            logger.error("email not sent: the mail server refused the recipient", extra={**where, "smtp_code": codes[0]})
            return False
        logger.warning("email not sent yet: the mail server deferred the recipient, will retry",
                       extra={**where, "smtp_code": codes[0] if codes else None})
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            logger.error("email not sent: the mail server refused it", extra={**where, "smtp_code": exc.smtp_code})
            return False
        logger.warning("email not sent yet: temporary mail server error, will retry",
                       extra={**where, "smtp_code": exc.smtp_code})
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("email not sent yet: mail server unreachable, will retry",
                       extra={**where, "error": type(exc).__name__})
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))
    logger.info("email sent", extra=where)
    return True
