"""Brute-force protection for sign-ins: per-account lockout and per-address throttling.

Failed sign-ins are counted on the account (readable by scripts as the
failedLoginAttempts claim; a success ends the count and keeps it as
failedLoginAttemptsBeforeSuccess); after AUTHFLOW_LOCKOUT_THRESHOLD failures in a row
the account is locked for AUTHFLOW_LOCKOUT_SECONDS, and a correct password
does not unlock it early (after it, one more failure locks it again; a
success, or an administrator setting the count to 0, resets it).  Failures
are also counted per client address in the cache, so one address cannot try
many accounts.

A password is checked inside password_attempt, which holds the name's row
locked (SELECT ... FOR UPDATE) from before the check until its outcome is
written: attempts of one name are checked one after the other, each seeing
the failures of those before it, so however many arrive at once no more than
the threshold are checked before the lock, and correct passwords sent at once
all succeed (none is taken for a failure).  Nothing is counted before the
check, so nothing is left over when a worker dies mid-check: PostgreSQL ends
its transaction and the row lock with the connection.  An attempt that waits
longer than AUTHFLOW_SIGN_IN_WAIT_SECONDS for the row gets a transient answer
(BUSY), neither a lock nor a failure.  A username without an account is
locked and counted the same way, in UnknownUsername, so the lockout does not
tell which accounts exist.  Codes, passkeys and links count a failure after
their check (record_failure).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, Value, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_noop, ngettext

from authflow import ratelimit

from .models import UnknownUsername, User

logger = logging.getLogger("authflow.lockout")

NETWORK_BLOCKED = gettext_noop("Too many failed sign-ins from your network. Try again later.")
BUSY = gettext_noop("Another sign-in to this account is being checked. Try again in a moment.")


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
    """A password attempt, made inside password_attempt (its name's row locked until the block ends)."""

    username: str
    known: bool  # whether an account has this username: for the log only, never for the page
    allowed: bool  # False: locked, or busy; the password must not be checked
    failures: int  # failures in a row before this attempt
    locked_until: datetime | None
    flow_id: str | None
    busy: bool = False  # other attempts of this name held it longer than the wait: try again, nothing counted
    rows: object = field(default=None, repr=False, compare=False)  # the locked row's queryset (None: no name)
    account: object = field(default=None, repr=False, compare=False)  # the locked account (User), if `known`

    @property
    def message(self) -> str:
        """What a refused attempt is told: the same for every username."""
        return BUSY if self.busy else _locked_message(self.locked_until)


@contextmanager
def password_attempt(username: str, *, flow_id: str | None = None, resolve=None) -> Iterator[Attempt]:
    """Check a password of `username` inside this block, and call attempt_failed or record_success in it.

    The name's row stays locked until the block ends, so attempts of one name are checked one at a time (see
    the module's docstring); not allowed (nothing to check, nothing counted) while the name is locked, or
    when the row was not free within AUTHFLOW_SIGN_IN_WAIT_SECONDS.

    `resolve(typed, local=...)` (directory.services.sign_in_name): `username` is a typed sign-in name, resolved
    here to the local username whose row is locked (attempt.username).  The account row read (locked) for a
    plain name is handed to it as `local`: a PRIMARY account of that name needs no query of its own.  It may
    raise (DirectoryUnavailable): nothing is locked nor counted then.
    """
    if not username:  # no account, nor any name to lock
        yield Attempt(username, False, True, 0, None, flow_id)
        return
    with ExitStack() as held:
        held.enter_context(transaction.atomic())
        try:
            known, rows, (failures, locked_until), account, username = _lock_name(username, resolve)
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available: waited too long
                raise
            transaction.set_rollback(True)
            held.close()  # the transaction ends here: it accepts no more queries after the lock timeout
            logger.info("sign-in refused: another attempt is being checked", extra={"flow_id": flow_id})
            yield Attempt(username, False, False, 0, None, flow_id, busy=True)
            return
        attempt = Attempt(username, known, _seconds_left(locked_until) == 0, failures, locked_until, flow_id,
                          rows=rows, account=account)
        if not attempt.allowed:
            logger.info("sign-in refused: account locked", extra={
                "flow_id": flow_id, "user": username if known else None, "locked_until": locked_until})
        yield attempt


def attempt_failed(attempt: Attempt, ip: str | None) -> None:
    """The password of an allowed attempt was wrong: count it (inside password_attempt, its row still locked)."""
    failures, locked_until = attempt.failures, attempt.locked_until
    if attempt.rows is not None:
        lock_until = timezone.now() + timedelta(seconds=_conf("AUTHFLOW_LOCKOUT_SECONDS", 900))
        extra = {} if attempt.known else {"updated_at": timezone.now()}
        attempt.rows.update(failed_login_attempts=F("failed_login_attempts") + 1,
                            locked_until=_lock_at_threshold(lock_until), **extra)
        failures += 1  # exact: no other attempt changes the row while it is locked
        locked_until = lock_until if failures >= _threshold() else locked_until
    _count_address(ip, attempt.flow_id)
    _log_failure(attempt.flow_id, "BasicAuthenticator", attempt.username if attempt.known else None,
                 failures, ip, locked_until, known=attempt.known)


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


def record_success(user, attempt: Attempt | None = None) -> None:
    """A successful sign-in step: the failures in a row end, and become failedLoginAttemptsBeforeSuccess.

    One UPDATE computes both from the row as it is (not from `user`, which may be stale).  A success after
    no failures leaves failedLoginAttemptsBeforeSuccess as it is (the reference's templates set it back
    to 0 once the user passed the step-up).  Inside password_attempt, with its `attempt` (the row locked,
    so its figures are exact): no UPDATE when there is nothing to reset, and `user` is brought up to date.
    """
    exact = attempt is not None and attempt.account is not None and attempt.account.pk == user.pk
    if exact and attempt.failures == 0 and attempt.locked_until is None:
        return  # what the UPDATE below would match: no row
    User.objects.filter(Q(failed_login_attempts__gt=0) | Q(locked_until__isnull=False), pk=user.pk).update(
        failed_login_attempts_before_success=Case(
            When(failed_login_attempts__gt=0, then=F("failed_login_attempts")),
            default=F("failed_login_attempts_before_success"), output_field=PositiveIntegerField()),
        failed_login_attempts=0, locked_until=None)
    if exact:
        if attempt.failures > 0:
            user.failed_login_attempts_before_success = attempt.failures
        user.failed_login_attempts, user.locked_until = 0, None


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


def _lock_name(username: str, resolve=None):
    """Lock the row counting `username`'s failures (UnknownUsername's when no account has it, created if need be).

    Whether an account has it, the row's queryset, its failures and lock, the account (or None) and the
    username locked (`username`, or what `resolve` made of it: password_attempt).  Any wait for the row (or
    for another attempt's insert of it) longer than AUTHFLOW_SIGN_IN_WAIT_SECONDS raises OperationalError.
    """
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:  # for the rest of this transaction only
            cursor.execute("SELECT set_config('lock_timeout', %s, true)",
                           [f"{_conf('AUTHFLOW_SIGN_IN_WAIT_SECONDS', 10) * 1000}ms"])
    account = None
    if resolve is not None:
        if "/" in username:  # a store's name ("CORP/alice"): resolved first (the row to lock may be another)
            username = resolve(username)
        else:
            account = _locked_account(username, postgres)
            resolved = resolve(username, local=account)
            if resolved != username:
                username, account = resolved, None
    if account is None:
        account = _locked_account(username, postgres)
    if account is not None:
        return True, User.objects.filter(pk=account.pk), (account.failed_login_attempts, account.locked_until), \
            account, username
    digest = _digest(username)
    UnknownUsername.objects.bulk_create([UnknownUsername(name_digest=digest)], ignore_conflicts=True)
    rows = UnknownUsername.objects.filter(name_digest=digest)
    figures = ("failed_login_attempts", "locked_until")
    return False, rows, rows.select_for_update().values_list(*figures).get(), None, username


def _locked_account(username: str, postgres: bool):
    """The account named `username`, its row locked (read whole: the password is checked next), or None."""
    rows = User.objects.filter(username=username)
    if not postgres:
        # SQLite (the embedded default) has no row locks and ignores FOR UPDATE: a write that changes nothing
        # takes its database-wide write lock for the rest of the transaction, which serialises attempts the same.
        rows.update(failed_login_attempts=F("failed_login_attempts"))
    return rows.select_for_update().first()


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
