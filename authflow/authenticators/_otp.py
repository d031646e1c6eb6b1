"""What the one-time code authenticators sent to the user (email OTP, SMS OTP) share.

A six-digit code is sent the first time the step's page is shown (a reload
sends nothing; "Send a new code" does, at most every 30 seconds and five
times per step).  It answers that step of that flow only, expires, works
once, is stored as a keyed digest and compared in constant time
(authflow.mail.codes); after three wrong tries it is void.  A wrong,
expired, replaced or used code counts as a failed sign-in of the account
and the client address (authflow.directory.lockout).

authenticatorParams, as in the reference API:
- `enableRetryFromAuthenticator` ('true' or true): a wrong code is asked
  again on the page and the script is not told; otherwise (the default) it
  is a failed step answer: onFail runs, or the step is shown again.
- `maximumAllowedFailureAttempts` (a whole number): at most this many codes
  are checked in the step (one row per flow and step, counted before each
  check by a conditional update: concurrent submissions cannot exceed it).
  The wrong code that reaches the limit, and any code after it (a correct
  one too), fail the step, even with retry on the page: onFail runs.
- `maximumAllowedResendAttempts` (a whole number): at most this many new
  codes after the first; one more is refused on the page and the code the
  user has keeps working, unless `terminateOnResendLimitExceeded` ('true'
  or true): then the step fails (onFail runs) and stays failed.
A value that is not what it should be makes the page say the sign-in is set
up wrongly (and sends nothing): a limit is never silently ignored.

A user without the address (email, mobile) is not enrolled: once an
earlier step checked a credential the page says so and the step fails.
Before that (e.g. after IdentifierExecutor) the page looks the same for
every identifier and sends nothing to unknown ones; the address is shown
masked only to a verified user.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from authflow.directory import lockout
from authflow.mail import codes, step_limits
from authflow.net import client_ip

from ._codes import retry_on_page, typed_code
from .base import Authenticator, ShowAgain, ShowPage, Step

logger = logging.getLogger("authflow.authenticators")

RESEND = "resend"
MAX_LIMIT = 100

MESSAGES = {
    "wrong": gettext_noop("The code is not correct."),
    "none": gettext_noop("The code is not correct."),
    "expired": gettext_noop("This code has expired. Send a new code."),
    "used": gettext_noop("This code was already used. Enter the newest code we sent you."),
    "replaced": gettext_noop("This code was replaced by a newer one. Enter the newest code we sent you."),
    "void": gettext_noop("This code no longer works after too many wrong tries. Send a new code."),
}
NEEDS_SUBJECT = gettext_noop("This step needs an earlier step that identifies you: the application's sign-in is set up wrongly.")
NOW_VOID = gettext_noop("The code is not correct, and after too many wrong tries it no longer works. Send a new code.")
TOO_MANY_TRIES = gettext_noop("Too many wrong codes: this code can no longer be used to sign in this time.")
NO_MORE_CODES = gettext_noop("No more codes can be sent for this sign-in. Enter the last code we sent you.")
TOO_MANY_CODES = gettext_noop("Too many codes were asked for: this code can no longer be used to sign in this time.")


class BadParams(ValueError):
    """authenticatorParams a script passed that cannot be honoured (the message says which)."""


@dataclass(frozen=True)
class Limits:
    failures: int | None = None
    resends: int | None = None
    terminate_on_resends: bool = False

    @property
    def counted(self) -> bool:
        return self.failures is not None or self.resends is not None


def _whole_number(step: Step, name: str, lowest: int) -> int | None:
    value = step.param(name)
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not lowest <= int(text) <= MAX_LIMIT:
        raise BadParams(f"The application's sign-in is set up wrongly: {name} must be a whole number from "
                        f"{lowest} to {MAX_LIMIT}.")
    return int(text)


def _flag(step: Step, name: str) -> bool:
    value = step.param(name, False)
    if value is True or value is False or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text not in ("true", "false", ""):
        raise BadParams(f"The application's sign-in is set up wrongly: {name} must be true or false.")
    return text == "true"


def limits_of(step: Step) -> Limits:
    """The limits the script passed the step (BadParams when one is malformed)."""
    return Limits(failures=_whole_number(step, "maximumAllowedFailureAttempts", 1),
                  resends=_whole_number(step, "maximumAllowedResendAttempts", 0),
                  terminate_on_resends=_flag(step, "terminateOnResendLimitExceeded"))


class OtpAuthenticator(Authenticator):
    """A code sent to an address of the user; subclasses say which address and how it is delivered."""

    identifies_user = False
    proves_identity = True
    amr = "otp"
    purpose: str = ""
    # What one delivery is called on the pages ("email", "text message").
    noun: str = ""

    def address(self, user) -> str:
        """Where the user's codes go ("" when the account has no such address)."""
        raise NotImplementedError

    def mask(self, address: str) -> str:
        raise NotImplementedError

    def deliver(self, step: Step, user, address: str, code: str) -> None:
        """Send `code` to `address` (the secret exists nowhere else: it must not be logged)."""
        raise NotImplementedError

    def is_enrolled(self, user) -> bool:
        return bool(self.address(user))

    def context(self, request, step: Step) -> dict:
        user = step.user
        try:
            limits = limits_of(step)
        except BadParams as exc:
            logger.error("OTP step refused: bad authenticatorParams", extra={
                "flow_id": step.flow_id, "step": step.number, "detail": str(exc)})
            return {**self._page(step, user), "misconfigured": str(exc)}
        if limits.counted and step_limits.ended(step.flow_id, step.number):
            pass  # a limit ended the step: nothing more is sent
        elif step.error:  # this page's failed try brought the step back: its code still answers it
            codes.carry_over(self.purpose, step.flow_id, step.number, step.position, user)
        elif codes.first_send(self.purpose, step.flow_id, step.position):
            self._send(step, user)
        return self._page(step, user)

    def answer(self, request, step: Step) -> dict:
        if not step.subject:
            raise ShowAgain(NEEDS_SUBJECT)
        try:
            limits = limits_of(step)
        except BadParams as exc:
            raise ShowAgain(str(exc)) from None
        user = step.user
        if limits.counted and step_limits.ended(step.flow_id, step.number):
            return step.failure(TOO_MANY_TRIES)
        if request.POST.get("action") == RESEND:
            return self._resend(step, user, limits)
        code = typed_code(request)
        if not code:
            raise ShowAgain(gettext_noop("Enter the code we sent you."))
        ip = client_ip(request)
        if lockout.address_blocked(ip):
            return step.failure(lockout.NETWORK_BLOCKED)
        if user is not None and lockout.locked_for(user):
            return step.failure(lockout.locked_message(user))
        if limits.failures is not None and not step_limits.take_try(step.flow_id, step.number, limits.failures):
            step_limits.end(step.flow_id, step.number)
            logger.info("OTP refused: the step's limit of wrong codes was reached", extra={
                "flow_id": step.flow_id, "step": step.number, "limit": limits.failures})
            return step.failure(TOO_MANY_TRIES)
        if user is not None and code.isdigit() and len(code) == codes.CODE_DIGITS:
            check = codes.check_code(step.flow_id, step.position, user, code, self.purpose)
        else:
            check = codes.Check(False, "wrong")
        if check.ok:
            lockout.record_success(user)
            logger.info("OTP accepted", extra={"flow_id": step.flow_id, "step": step.number,
                                               "authenticator": step.authenticator})
            return step.success(user.get_username())
        lockout.record_failure(step.subject or "", ip, flow_id=step.flow_id, authenticator=step.authenticator)
        logger.info("OTP refused", extra={"flow_id": step.flow_id, "step": step.number, "reason": check.reason,
                                          "authenticator": step.authenticator})
        if limits.failures is not None and not step_limits.tries_left(step.flow_id, step.number, limits.failures):
            step_limits.end(step.flow_id, step.number)
            return step.failure(TOO_MANY_TRIES)  # even with retry on the page: the script decides what now
        message = NOW_VOID if check.now_void else MESSAGES.get(check.reason, MESSAGES["wrong"])
        if retry_on_page(step):
            raise ShowAgain(message)
        return step.failure(message)

    def _resend(self, step: Step, user, limits: Limits) -> dict:
        try:
            codes.note_resend(self.purpose, step.flow_id, step.position, self.noun)
        except codes.TooSoon as exc:
            raise ShowAgain(exc.message) from None
        if limits.resends is not None and not step_limits.take_resend(step.flow_id, step.number, limits.resends):
            logger.info("OTP not resent: the step's limit of new codes was reached", extra={
                "flow_id": step.flow_id, "step": step.number, "limit": limits.resends,
                "terminate": limits.terminate_on_resends})
            if limits.terminate_on_resends:
                step_limits.end(step.flow_id, step.number)
                return step.failure(TOO_MANY_CODES)
            raise ShowAgain(NO_MORE_CODES)
        self._send(step, user)
        raise ShowPage(self.template, {**self._page(step, user), "notice": gettext_noop("We sent you a new code.")})

    def _page(self, step: Step, user) -> dict:
        address = self.address(user) if user is not None else ""
        shown = user is not None and step.subject_verified and address
        return {"misconfigured": NEEDS_SUBJECT if not step.subject else "",
                "masked_address": self.mask(address) if shown else "",
                "minutes": max(1, codes.ttl(self.purpose) // 60), "resend_action": RESEND}

    def _send(self, step: Step, user) -> None:
        """Send a new code for the step to a user who can receive one; anyone else gets nothing, silently."""
        address = self.address(user) if user is not None else ""
        if not address or lockout.locked_for(user):
            return
        issued = codes.issue(self.purpose, user, step.flow_id, step.position, step.number)
        if issued is None:
            logger.warning("OTP not sent: too many codes to this account lately",
                           extra={"flow_id": step.flow_id, "user": user.get_username(),
                                  "authenticator": step.authenticator})
            return
        _, code = issued
        self.deliver(step, user, address, code)
