"""Brute-force protection for password checks: per-account lockout and per-address throttling.

Failed password checks are counted on the account (readable by scripts as the
failedLoginAttempts claim); after AUTHFLOW_LOCKOUT_THRESHOLD failures in a row
the account is locked for AUTHFLOW_LOCKOUT_SECONDS, and a correct password
does not unlock it early (after it, one more failure locks it again; a
success resets the count).  Failures are also counted per client address in the
cache, so one address cannot try many accounts.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from authflow import ratelimit

from .models import User


def _conf(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def locked_for(user) -> int:
    """Seconds the account stays locked (0 when it is not locked)."""
    if user.locked_until is None:
        return 0
    return max(0, int((user.locked_until - timezone.now()).total_seconds()))


def address_blocked(ip: str | None) -> bool:
    return bool(ip) and ratelimit.count(_address_key(ip)) >= _conf("AUTHFLOW_ADDRESS_FAILURE_LIMIT", 30)


NETWORK_BLOCKED = "Too many failed sign-ins from your network. Try again later."


def locked_message(user) -> str:
    """What a locked account's owner is told (how long is left, rounded up to a minute)."""
    minutes = max(1, round(locked_for(user) / 60))
    return f"This account is locked after too many failed sign-ins. Try again in {minutes} minute(s)."


def record_failure(username: str, ip: str | None) -> None:
    if ip:
        ratelimit.hit(_address_key(ip), _conf("AUTHFLOW_ADDRESS_FAILURE_WINDOW_SECONDS", 900))
    User.objects.filter(username=username).update(failed_login_attempts=F("failed_login_attempts") + 1)
    threshold = _conf("AUTHFLOW_LOCKOUT_THRESHOLD", 5)
    lock_until = timezone.now() + timedelta(seconds=_conf("AUTHFLOW_LOCKOUT_SECONDS", 900))
    User.objects.filter(username=username, failed_login_attempts__gte=threshold).update(locked_until=lock_until)


def record_success(user) -> None:
    if user.failed_login_attempts or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_attempts=0, locked_until=None)


def _address_key(ip: str) -> str:
    return f"authflow:failed-logins:{ip}"
