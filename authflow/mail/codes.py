"""One-time codes and links sent by email (and codes by text message): issuing them, and checking what comes back.

Each is bound to one step of one flow (the flow's position when it was
sent; a try of the same step shown again after a wrong code keeps it), expires, is used at most once, and is stored as a keyed digest
(authflow.keys.mac; the purpose separates codes from links).  Issuing a new
one for a step voids the earlier ones.  A code allows MAX_ATTEMPTS wrong
tries, then it is void.

Sending is rate-limited per step (a cooldown between sends and a maximum per
step, counted in the cache whether or not the account exists, so the limits
tell nothing about accounts) and per account (a quiet cap: over it nothing
is sent, and the page looks the same).
"""
from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.translation import gettext_noop

from authflow import keys, ratelimit

from . import service
from .models import OneTimeCode

Purpose = OneTimeCode.Purpose
logger = logging.getLogger("authflow.mail")

CODE_DIGITS = 6
MAX_ATTEMPTS = 3
RESEND_COOLDOWN_SECONDS = 30
MAX_SENDS_PER_STEP = 5
MAX_SENDS_PER_USER = 10
USER_WINDOW_SECONDS = 15 * 60


def ttl(purpose: str) -> int:
    if purpose == Purpose.MAGIC_LINK:
        return int(settings.AUTHFLOW_MAGIC_LINK_TTL_SECONDS)
    if purpose == Purpose.SMS_OTP:
        return int(settings.AUTHFLOW_SMS_OTP_TTL_SECONDS)
    return int(settings.AUTHFLOW_EMAIL_OTP_TTL_SECONDS)


def _mac_purpose(purpose: str) -> str:
    return f"one-time-{purpose}"


# ------------------------------------------------------------------ rate limits

class TooSoon(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _step_key(purpose: str, flow_id, position) -> str:
    return f"authflow:mail-sends:{purpose}:{flow_id}:{position}"


UNAVAILABLE = gettext_noop("Another email cannot be sent right now. Try again in a few minutes.")


def first_send(purpose: str, flow_id, position) -> bool:
    """True the first time a step's page asks (it sends then); False afterwards (a reload sends nothing)."""
    key = _step_key(purpose, flow_id, position)
    try:
        if not cache.add(key + ":first", 1, _step_ttl()):
            return False
        cache.set(key, (cache.get(key) or []) + [time.time()], _step_ttl())
    except Exception as exc:  # noqa: BLE001 - the cache is unreachable: the database says whether one was sent
        _cache_unreachable("email step not counted", flow_id, exc)
        return not OneTimeCode.objects.filter(flow_id=flow_id, purpose=purpose, position=position).exists()
    return True


def note_resend(purpose: str, flow_id, position, noun: str = "email") -> None:
    """Count another send for the step, or refuse it (TooSoon) when it comes too soon or is one too many.

    With the cache unreachable nothing would limit resends: they are refused.
    """
    key = _step_key(purpose, flow_id, position)
    now = time.time()
    try:
        sends = cache.get(key) or []
        if sends:
            wait = math.ceil(sends[-1] + RESEND_COOLDOWN_SECONDS - now)
            if wait > 0:
                raise TooSoon(f"Wait {wait} second{pluralize(wait)} before asking for another {noun}.")
        if len(sends) >= MAX_SENDS_PER_STEP:
            raise TooSoon(f"Too many {noun}s were sent for this sign-in. Start again from the application later.")
        cache.set(key, sends + [now], _step_ttl())
        cache.add(key + ":first", 1, _step_ttl())
    except TooSoon:
        raise
    except Exception as exc:  # noqa: BLE001
        _cache_unreachable(f"{noun} not resent", flow_id, exc)
        raise TooSoon(UNAVAILABLE.replace("email", noun)) from None


def _cache_unreachable(what: str, flow_id, exc: Exception) -> None:
    logger.error(f"{what}: the cache is unreachable", extra={"flow_id": str(flow_id), "error": type(exc).__name__})


def _step_ttl() -> int:
    return max(int(settings.AUTHFLOW_FLOW_TTL_SECONDS), 60)


def _user_allowance(user, purpose: str) -> bool:
    """Whether the account may get another email (or text message) now (MAX_SENDS_PER_USER in USER_WINDOW_SECONDS)."""
    channel = "sms" if purpose == Purpose.SMS_OTP else "mail"
    return ratelimit.hit(f"authflow:{channel}-sends-user:{user.pk}", USER_WINDOW_SECONDS) <= MAX_SENDS_PER_USER


# ------------------------------------------------------------------ issuing

def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


@transaction.atomic
def issue(purpose: str, user, flow_id, position: int, step: int) -> tuple[OneTimeCode, str] | None:
    """A new code (email or SMS OTP) or link token (magic link) for the step, voiding earlier ones; None over the
    account's cap.

    Returns the record and the secret to send, which exists nowhere else; send an email with
    send_template(..., allowance_taken=True): issuing counted it.
    """
    if not _user_allowance(user, purpose) or (purpose != Purpose.SMS_OTP and not service.take_allowance(user)):
        return None  # before the earlier codes are voided: over a cap, the one the user has keeps working
    now = timezone.now()
    OneTimeCode.objects.filter(flow_id=flow_id, purpose=purpose, position=position, used_at__isnull=True,
                               voided_at__isnull=True).update(voided_at=now)
    if purpose == Purpose.MAGIC_LINK:
        selector, verifier = secrets.token_urlsafe(12), secrets.token_urlsafe(32)
        secret = f"{selector}.{verifier}"
    else:
        selector, verifier = None, new_code()
        secret = verifier
    record = OneTimeCode.objects.create(
        purpose=purpose, user=user, flow_id=flow_id, position=position, step=step, selector=selector,
        digest=keys.mac(verifier.encode(), purpose=_mac_purpose(purpose)), created_at=now,
        expires_at=now + timedelta(seconds=ttl(purpose)))
    return record, secret


@transaction.atomic
def carry_over(purpose: str, flow_id, step: int, position: int, user) -> bool:
    """Let the code sent for an earlier try of this step answer its new try at `position`; False when none is active.

    A step shown again after a wrong code keeps the code the user has (its wrong tries still count toward
    MAX_ATTEMPTS) instead of sending another while the error is on the page.
    """
    if user is None:
        return False
    record = OneTimeCode.objects.select_for_update().filter(
        flow_id=flow_id, purpose=purpose, user=user, step=step, position__lt=position, used_at__isnull=True,
        voided_at__isnull=True, expires_at__gt=timezone.now()).order_by("-created_at").first()
    if record is None:
        return False
    record.position = position
    record.save(update_fields=["position"])
    return True


# ------------------------------------------------------------------ checking

@dataclass
class Check:
    ok: bool
    # Why not: "wrong", "expired", "used", "replaced", "void", "none"
    reason: str = ""
    record: OneTimeCode | None = None
    # A wrong try that used up the code's last attempt.
    now_void: bool = False


def _matches(record: OneTimeCode, verifier: str) -> bool:
    return keys.mac_matches(verifier.encode(), record.digest, purpose=_mac_purpose(record.purpose))


@transaction.atomic
def check_code(flow_id, position: int, user, code: str, purpose: str = Purpose.EMAIL_OTP) -> Check:
    """Check an OTP `code` (email or SMS) typed at the flow's step at `position`; a correct one is used up."""
    if user is None:
        return Check(False, "none")
    records = list(OneTimeCode.objects.select_for_update().filter(
        flow_id=flow_id, user=user, purpose=purpose).order_by("-created_at"))
    current = next((r for r in records if r.position == position and r.state == "active"), None)
    if code and current is not None and _matches(current, code):
        current.used_at = timezone.now()
        current.save(update_fields=["used_at"])
        return Check(True, record=current)
    # Not the step's active code: say why, if it is one of ours.
    if code:
        for record in records:
            if record is not current and _matches(record, code):
                # A code of this flow that is not the step's: used, expired, or replaced (by a newer code,
                # or because the step it was sent for is over).
                if record.state in ("used", "expired"):
                    reason = record.state
                else:
                    reason = "void" if record.attempts >= MAX_ATTEMPTS else "replaced"
                return Check(False, reason, record)
    if current is None:
        latest = next((r for r in records if r.position == position), None)
        if latest is None:
            return Check(False, "none")
        return Check(False, "expired" if latest.state == "expired" else "void", latest)
    current.attempts += 1
    fields = ["attempts"]
    if current.attempts >= MAX_ATTEMPTS:
        current.voided_at = timezone.now()
        fields.append("voided_at")
    current.save(update_fields=fields)
    return Check(False, "wrong", current, now_void=current.voided_at is not None)


def find_link(token: str) -> Check:
    """The magic link `token` ("<selector>.<verifier>") names: ok when it is active and genuine (not used up here)."""
    selector, dot, verifier = (token or "").partition(".")
    if not dot or not selector or not verifier or len(selector) > 32 or len(verifier) > 64:
        return Check(False, "none")
    record = OneTimeCode.objects.select_related("user").filter(
        purpose=Purpose.MAGIC_LINK, selector=selector).first()
    if record is None:
        return Check(False, "none")
    if not _matches(record, verifier):
        with transaction.atomic():
            attempts = OneTimeCode.objects.filter(pk=record.pk).select_for_update().values_list(
                "attempts", flat=True).first() or 0
            fields = {"attempts": attempts + 1}
            if attempts + 1 >= MAX_ATTEMPTS and record.voided_at is None:
                fields["voided_at"] = timezone.now()
            OneTimeCode.objects.filter(pk=record.pk).update(**fields)
        return Check(False, "wrong", record)
    state = record.state
    if state != "active":
        return Check(False, "replaced" if state == "void" else state, record)
    return Check(True, record=record)


def use_link(record: OneTimeCode) -> bool:
    """Use the link up (inside the caller's transaction); False when another request did first or it lapsed."""
    return OneTimeCode.objects.filter(pk=record.pk, used_at__isnull=True, voided_at__isnull=True,
                                      expires_at__gt=timezone.now()).update(used_at=timezone.now()) == 1
