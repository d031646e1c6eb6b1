"""email-otp (and email-otp-authenticator, its name in the reference API today): a code sent by email.

The code, its limits and the authenticatorParams a script passes are the
same for every code sent to the user: see authflow.authenticators._otp.
The email is the administrators' "email-otp" template, queued for the
worker (authflow.mail.service).
"""
from __future__ import annotations

from django.utils.translation import gettext_noop

from authflow.mail import codes
from authflow.mail import service as mail

from ._otp import MESSAGES, NEEDS_SUBJECT, NOW_VOID, OtpAuthenticator  # noqa: F401  (names tests and pages use)

TEMPLATE_ID = "email-otp"


class EmailOtpAuthenticator(OtpAuthenticator):
    name = "email-otp"
    display_name = gettext_noop("Email OTP")
    template = "login/email_otp.html"
    purpose = codes.Purpose.EMAIL_OTP
    noun = "email"

    def address(self, user) -> str:
        return user.email or ""

    def mask(self, address: str) -> str:
        return mail.mask_address(address)

    def deliver(self, step, user, address: str, code: str) -> None:
        mail.send_template(user, TEMPLATE_ID, {"code": code, "minutes": max(1, codes.ttl(self.purpose) // 60),
                                               "application": step.application}, flow_id=step.flow_id,
                           allowance_taken=True)


class EmailOtpAuthenticatorAlias(EmailOtpAuthenticator):
    """The same authenticator under the name the reference API uses today."""

    name = "email-otp-authenticator"
