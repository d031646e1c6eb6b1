"""Sending a templated email to a user: rendered now, sent by a Celery task once the transaction commits.

    send_template(user_or_username, template_id, placeholders) -> bool

True when the message was rendered and will be handed to the task queue
when the surrounding transaction commits (at once outside a transaction),
so a login flow whose transaction rolls back sends nothing.  False for an
unknown template, a user who does not exist, is inactive or has no email
address, or one who got AUTHFLOW_MAIL_MAX_PER_USER emails in the window.  On the embedded default (no broker) the task runs inline; with a
broker (Redis) a worker sends it, with retries on SMTP errors (tasks.py).

The message travels through the broker encrypted (authflow.keys, purpose
"outgoing-mail"): codes and links never sit in Redis in clear.  Logs name
the template, the user and the flow, never the message's contents.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation

from authflow import ratelimit

from . import defaults
from .models import USER_PLACEHOLDERS, EmailTemplate

logger = logging.getLogger("authflow.mail")


def _user(user_or_username):
    if isinstance(user_or_username, get_user_model()):
        return user_or_username
    username = str(user_or_username or "")
    return get_user_model().objects.filter(username=username).first() if username else None


def mask_address(address: str) -> str:
    """a***@example.com: enough for the owner to recognise, not enough to learn it."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def send_template(user_or_username, template_id: str, placeholders: dict | None = None, *,
                  flow_id: str | None = None, allowance_taken: bool = False) -> bool:
    """Render `template_id` for the user and queue it for sending after the transaction commits.

    `allowance_taken`: the caller already counted this email with take_allowance (before issuing a code).
    """
    user = _user(user_or_username)
    where = {"template_id": str(template_id)[:64], "flow_id": flow_id,
             "user": getattr(user, "username", str(user_or_username or "")[:150])}
    if user is None or not user.is_active or not user.email:
        logger.info("email not sent: no such active user with an email address", extra=where)
        return False
    if not allowance_taken and not take_allowance(user):
        # Whatever asks (a script's sendEmail, a code, a link), an inbox is not flooded.
        logger.warning("email not sent: the account got too many emails in the window",
                       extra={**where, "limit": settings.AUTHFLOW_MAIL_MAX_PER_USER,
                              "window_seconds": settings.AUTHFLOW_MAIL_WINDOW_SECONDS})
        return False
    template = _in_language(template_id, translation.get_language() or settings.LANGUAGE_CODE)
    if template is None:
        logger.warning("email not sent: no such email template", extra=where)
        return False
    values = {name: getattr(user, name, "") or "" for name in USER_PLACEHOLDERS}
    values.update({str(k): "" if v is None else str(v) for k, v in (placeholders or {}).items()})
    subject, text, html, missing = template.render(values)
    if missing:
        logger.warning("email template placeholders without a value (left empty)",
                       extra={**where, "placeholders": sorted(missing)})
    # The task module (and Celery, about 8 MB of a web worker) is imported by the first email, not at startup.
    from .tasks import seal_message

    sealed = seal_message({"to": user.email, "subject": subject, "text": text, "html": html})
    transaction.on_commit(lambda: _enqueue(sealed, where))
    logger.info("email queued for sending after commit", extra=where)
    return True


def _in_language(template_id: str, language: str):
    """The template to render in `language` (the page's: authflow.languages chose it), or None.

    A stored variant in that language first; then, while the stored template is still the shipped text, the
    shipped text's translation (locale/); else the stored template, in the default language.  The shipped text
    is used when the stored copy is gone (the authenticators must keep working).
    """
    stored = EmailTemplate.objects.filter(template_id=template_id).first()
    shipped = defaults.BY_ID.get(template_id)
    if stored is not None and language != settings.LANGUAGE_CODE:
        variant = stored.variants.filter(language=language).first()
        if variant is not None:
            return variant
    if shipped is not None and (stored is None or defaults.is_shipped_text(stored)):
        return EmailTemplate(**defaults.translated(shipped, language))
    return stored


def take_allowance(user) -> bool:
    """Count one more email to the account; whether it may have it (AUTHFLOW_MAIL_MAX_PER_USER per window)."""
    sent = ratelimit.hit(f"authflow:mail-to-user:{user.pk}", settings.AUTHFLOW_MAIL_WINDOW_SECONDS)
    return sent <= settings.AUTHFLOW_MAIL_MAX_PER_USER


def _enqueue(sealed: str, where: dict) -> None:
    options = {}
    queue = getattr(settings, "AUTHFLOW_MAIL_QUEUE", "")
    if queue:
        options["queue"] = queue
    from .tasks import send_message

    try:
        send_message.apply_async(args=[sealed, where], **options)
    except Exception:  # the broker is down, or (inline) sending failed
        # The transaction already committed; nothing to undo.  The user can ask for another code.
        logger.exception("email could not be queued or sent", extra=where)
