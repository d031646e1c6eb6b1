"""email-otp: a six-digit code sent to the user's email address, for the user an earlier step identified.

The code is sent the first time the step's page is shown (a reload sends
nothing; "Send a new code" does, at most every 30 seconds and five times
per step).  It answers that step of that flow only, expires after
AUTHFLOW_EMAIL_OTP_TTL_SECONDS, works once, is stored as a keyed digest and
compared in constant time (authflow.mail.codes); after three wrong tries it
is void.  A wrong, expired, replaced or used code counts as a failed sign-in
of the account and the client address (authflow.directory.lockout).

authenticatorParams `enableRetryFromAuthenticator` ('true' or true): a wrong
code is asked again on the page and the script is not told; otherwise (the
default) it is a failed step answer: onFail runs, or the step is shown
again with the error.  Shown again after a failed try of this page, the step
sends nothing: the code the user has still works (codes.carry_over), and
when it no longer does the error says to send a new one.

A user without an email address is not enrolled: once an earlier step
checked a credential the page says so and the step fails.  Before that
(e.g. after IdentifierExecutor) the page looks the same for every
identifier and sends nothing to unknown ones, so it tells nothing about
accounts; the address is shown masked only to a verified user.
"""
from __future__ import annotations

import logging


from authflow.directory import lockout
from authflow.mail import codes
from authflow.mail import service as mail
from authflow.net import client_ip

from ._codes import retry_on_page, typed_code
from .base import Authenticator, ShowAgain, ShowPage, Step

logger = logging.getLogger("authflow.authenticators")

PURPOSE = codes.Purpose.EMAIL_OTP
TEMPLATE_ID = "email-otp"
RESEND = "resend"

MESSAGES = {
    "wrong": "The code is not correct.",
    "none": "The code is not correct.",
    "expired": "This code has expired. Send a new code.",
    "used": "This code was already used. Enter the newest code we sent you.",
    "replaced": "This code was replaced by a newer one. Enter the newest code we sent you.",
    "void": "This code no longer works after too many wrong tries. Send a new code.",
}
NEEDS_SUBJECT = "This step needs an earlier step that identifies you: the application's sign-in is set up wrongly."
NOW_VOID = "The code is not correct, and after too many wrong tries it no longer works. Send a new code."


class EmailOtpAuthenticator(Authenticator):
    name = "email-otp"
    display_name = "Email OTP"
    identifies_user = False
    proves_identity = True
    amr = "otp"
    template = "login/email_otp.html"

    def is_enrolled(self, user) -> bool:
        return bool(user.email)

    def context(self, request, step: Step) -> dict:
        user = step.user
        if step.error:  # this page's failed try brought the step back: its code still answers it
            codes.carry_over(PURPOSE, step.flow_id, step.number, step.position, user)
        elif codes.first_send(PURPOSE, step.flow_id, step.position):
            self._send(step, user)
        return self._page(step, user)

    def answer(self, request, step: Step) -> dict:
        if not step.subject:
            raise ShowAgain(NEEDS_SUBJECT)
        user = step.user
        if request.POST.get("action") == RESEND:
            try:
                codes.note_resend(PURPOSE, step.flow_id, step.position)
            except codes.TooSoon as exc:
                raise ShowAgain(exc.message) from None
            self._send(step, user)
            raise ShowPage(self.template, {**self._page(step, user), "notice": "We sent you a new code."})
        code = typed_code(request)
        if not code:
            raise ShowAgain("Enter the code we sent you.")
        ip = client_ip(request)
        if lockout.address_blocked(ip):
            return step.failure(lockout.NETWORK_BLOCKED)
        if user is not None and lockout.locked_for(user):
            return step.failure(lockout.locked_message(user))
        if user is not None and code.isdigit() and len(code) == codes.CODE_DIGITS:
            check = codes.check_code(step.flow_id, step.position, user, code)
        else:
            check = codes.Check(False, "wrong")
        if check.ok:
            lockout.record_success(user)
            logger.info("email OTP accepted", extra={"flow_id": step.flow_id, "step": step.number})
            return step.success(user.get_username())
        lockout.record_failure(step.subject or "", ip, flow_id=step.flow_id, authenticator=step.authenticator)
        logger.info("email OTP refused", extra={"flow_id": step.flow_id, "step": step.number, "reason": check.reason})
        message = NOW_VOID if check.now_void else MESSAGES.get(check.reason, MESSAGES["wrong"])
        if retry_on_page(step):
            raise ShowAgain(message)
        return step.failure(message)

    def _page(self, step: Step, user) -> dict:
        shown = user is not None and step.subject_verified and user.email
        return {"misconfigured": NEEDS_SUBJECT if not step.subject else "",
                "masked_email": mail.mask_address(user.email) if shown else "",
                "minutes": max(1, codes.ttl(PURPOSE) // 60), "resend_action": RESEND}

    def _send(self, step: Step, user) -> None:
        """Send a new code for the step to a user who can receive one; anyone else gets nothing, silently."""
        if user is None or not user.email or lockout.locked_for(user):
            return
        issued = codes.issue(PURPOSE, user, step.flow_id, step.position, step.number)
        if issued is None:
            logger.warning("email OTP not sent: too many emails to this account lately",
                           extra={"flow_id": step.flow_id, "user": user.get_username()})
            return
        _, code = issued
        mail.send_template(user, TEMPLATE_ID, {"code": code, "minutes": max(1, codes.ttl(PURPOSE) // 60),
                                               "application": step.application}, flow_id=step.flow_id,
                           allowance_taken=True)

