"""Brute-force protection for sign-ins: per-account lockout and per-address throttling.

Failed sign-ins are counted on the account (readable by scripts as the
failedLoginAttempts claim; a success ends the count and keeps it as
failedLoginAttemptsBeforeSuccess); after AUTHFLOW_LOCKOUT_THRESHOLD failures in a row
the account is locked for AUTHFLOW_LOCKOUT_SECONDS, and a correct password
does not unlock it early (after it, one more failure locks it again; a
success, or an administrator setting the count to 0, resets it).  Failures
are also counted per client address in the cache, so one address cannot try
many accounts.

A password attempt is counted before the password is checked, by one
conditional UPDATE that refuses a locked name (begin_attempt): however many
attempts arrive at once, no more than the threshold are checked before the
lock.  A username without an account is counted the same way, in
UnknownUsername, so the lockout does not tell which accounts exist.  Codes,
passkeys and links count a failure after their check (record_failure).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, Q, Value, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_noop, ngettext

from authflow import ratelimit

from .models import UnknownUsername, User

logger = logging.getLogger("authflow.lockout")

NETWORK_BLOCKED = gettext_noop("Too many failed sign-ins from your network. Try again later.")


def _conf(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def locked_for(user) -> int:
    """Seconds the account stays locked (0 when it is not locked)."""
    return _seconds_left(user.locked_until)


def address_blocked(ip: str | None) -> bool:
    return bool(ip) and ratelimit.count(_address_key(ip)) >= _conf("AUTHFLOW_ADDRESS_FAILURE_LIMIT", 30)


def locked_message(user) -> str:
    """What a locked account's owner is told (how long is left, rounded up to a minute)."""
    return _locked_message(user.locked_until)


@dataclass(frozen=True)
class Attempt:
    """A password attempt, counted before the password is checked."""

    username: str
    known: bool  # whether an account has this username: for the log only, never for the page
    allowed: bool  # False: the name is locked, and the password must not be checked
    failures: int  # failures in a row so far, this attempt included when it is allowed
    locked_until: datetime | None
    flow_id: str | None

    @property
    def message(self) -> str:
        """What a refused attempt is told: the same for every username."""
        return _locked_message(self.locked_until)


def begin_attempt(username: str, *, flow_id: str | None = None) -> Attempt:
    """Count a password attempt of `username` before its check; not allowed (and not counted) while it is locked."""
    if not username:  # no account, nor any name to lock
        return Attempt(username, False, True, 0, None, flow_id)
    now = timezone.now()
    known = User.objects.filter(username=username).exists()
    if known:
        rows, extra = User.objects.filter(username=username), {}
    else:
        digest = _digest(username)
        UnknownUsername.objects.bulk_create([UnknownUsername(name_digest=digest)], ignore_conflicts=True)
        rows, extra = UnknownUsername.objects.filter(name_digest=digest), {"updated_at": now}
    lock_until = now + timedelta(seconds=_conf("AUTHFLOW_LOCKOUT_SECONDS", 900))
    with transaction.atomic():  # the row stays locked from the count to the read: the figures are this attempt's
        counted = rows.filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now)).update(
            failed_login_attempts=F("failed_login_attempts") + 1, locked_until=_lock_at_threshold(lock_until), **extra)
        failures, locked_until = rows.values_list("failed_login_attempts", "locked_until").first() or (0, None)
    attempt = Attempt(username, known, counted == 1, failures, locked_until, flow_id)
    if not attempt.allowed:
        logger.info("sign-in refused: account locked", extra={
            "flow_id": flow_id, "user": username if known else None, "locked_until": locked_until})
    return attempt


def attempt_failed(attempt: Attempt, ip: str | None) -> None:
    """The password of an allowed attempt was wrong (it was counted already)."""
    _count_address(ip, attempt.flow_id)
    _log_failure(attempt.flow_id, "BasicAuthenticator", attempt.username if attempt.known else None,
                 attempt.failures, ip, attempt.locked_until, known=attempt.known)


def record_failure(username: str, ip: str | None, *, flow_id: str | None = None, authenticator: str = "") -> None:
    """A failed check of a code, passkey or link of `username` ("" when no user is known)."""
    _count_address(ip, flow_id)
    lock_until = timezone.now() + timedelta(seconds=_conf("AUTHFLOW_LOCKOUT_SECONDS", 900))
    rows = User.objects.filter(username=username)
    with transaction.atomic():
        counted = rows.update(failed_login_attempts=F("failed_login_attempts") + 1,
                              locked_until=_lock_at_threshold(lock_until))
        failures = rows.values_list("failed_login_attempts", flat=True).first() or 0
    _log_failure(flow_id, authenticator, username if counted else None, failures, ip, lock_until, known=bool(counted))


def record_success(user, *, counted: bool = False) -> None:
    """A successful sign-in step: the failures in a row end, and become failedLoginAttemptsBeforeSuccess.

    `counted`: this very attempt was counted already (begin_attempt), so it is not one of the failures.
    One UPDATE computes both from the row as it is (not from `user`, which may be stale).  A success after
    no failures leaves failedLoginAttemptsBeforeSuccess as it is (the reference's templates set it back
    to 0 once the user passed the step-up).
    """
    offset = 1 if counted else 0
    User.objects.filter(Q(failed_login_attempts__gt=0) | Q(locked_until__isnull=False), pk=user.pk).update(
        failed_login_attempts_before_success=Case(
            When(failed_login_attempts__gt=offset, then=F("failed_login_attempts") - offset),
            default=F("failed_login_attempts_before_success"), output_field=PositiveIntegerField()),
        failed_login_attempts=0, locked_until=None)


def unlock(user, *, by: str) -> None:
    """An administrator unlocks the account (its failures back to 0)."""
    was_locked = user.account_locked
    User.objects.filter(pk=user.pk).update(failed_login_attempts=0, locked_until=None)
    user.failed_login_attempts, user.locked_until = 0, None
    logger.info("account unlocked" if was_locked else "failed sign-ins reset", extra={"user": user.get_username(),
                                                                                     "by": by})


def purge_unknown_usernames(last_change_before) -> dict[str, int]:
    """Forget failed sign-ins of unknown usernames that last failed before `last_change_before` (never locked ones)."""
    _, deleted = UnknownUsername.objects.filter(updated_at__lt=last_change_before).exclude(
        locked_until__gt=timezone.now()).delete()
    return deleted


def _threshold() -> int:
    return _conf("AUTHFLOW_LOCKOUT_THRESHOLD", 5)


def _lock_at_threshold(lock_until: datetime) -> Case:
    """In an UPDATE that adds one failure: lock when that failure reaches the threshold, else leave the lock as it is."""
    return Case(When(failed_login_attempts__gte=_threshold() - 1, then=Value(lock_until)), default=F("locked_until"))


def _log_failure(flow_id, authenticator: str, user: str | None, failures: int, ip, locked_until, *, known: bool) -> None:
    """"sign-in failed", and the lock it caused (`user` is None for a name without an account: never logged)."""
    logger.info("sign-in failed", extra={"flow_id": flow_id, "authenticator": authenticator, "user": user,
                                         "failed_attempts": failures, "ip": ip})
    if failures >= _threshold():
        logger.warning("account locked" if known else "unknown username locked", extra={
            "flow_id": flow_id, "user": user, "failed_attempts": failures, "locked_until": locked_until})


def _count_address(ip: str | None, flow_id: str | None) -> None:
    if not ip:
        return
    limit = _conf("AUTHFLOW_ADDRESS_FAILURE_LIMIT", 30)
    if ratelimit.hit(_address_key(ip), _conf("AUTHFLOW_ADDRESS_FAILURE_WINDOW_SECONDS", 900)) == limit:
        logger.warning("address blocked: too many failed sign-ins", extra={"flow_id": flow_id, "ip": ip,
                                                                          "limit": limit})


def _seconds_left(locked_until: datetime | None) -> int:
    if locked_until is None:
        return 0
    return max(0, int((locked_until - timezone.now()).total_seconds()))


def _locked_message(locked_until: datetime | None) -> str:
    minutes = max(1, round(_seconds_left(locked_until) / 60))
    return ngettext("This account is locked after too many failed sign-ins. Try again in %(minutes)d minute.",
                    "This account is locked after too many failed sign-ins. Try again in %(minutes)d minutes.",
                    minutes) % {"minutes": minutes}


def _digest(username: str) -> str:
    return salted_hmac("authflow.lockout.unknown-username", username, algorithm="sha256").hexdigest()


def _address_key(ip: str) -> str:
    return f"authflow:failed-logins:{ip}"
