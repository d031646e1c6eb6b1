"""sms-otp-authenticator: a code sent by text message to the user's mobile number.

The user's number is the claim http://wso2.org/claims/mobile (the account's
`mobile`).  The code, its limits and the authenticatorParams a script
passes are those of the email OTP (authflow.authenticators._otp); the
message goes through the configured sender (authflow.sms.senders), queued
after the code is stored.
"""
from __future__ import annotations

from django.utils.translation import gettext_noop

from authflow.mail import codes

from ._otp import OtpAuthenticator


def mask_number(number: str) -> str:
    """+*******4567: the last digits, enough for the owner to recognise it."""
    digits = number.strip()
    return "*" * max(0, len(digits) - 4) + digits[-4:] if len(digits) > 4 else "****"


class SmsOtpAuthenticator(OtpAuthenticator):
    name = "sms-otp-authenticator"
    display_name = gettext_noop("SMS OTP")
    template = "login/sms_otp.html"
    purpose = codes.Purpose.SMS_OTP
    noun = "text message"
    amr = "sms"  # RFC 8176: confirmation by a text message to a registered number

    def address(self, user) -> str:
        return (user.mobile or "").strip()

    def mask(self, address: str) -> str:
        return mask_number(address)

    def deliver(self, step, user, address: str, code: str) -> None:
        from authflow.sms.tasks import queue_text  # Celery is imported by the first text, not at startup

        minutes = max(1, codes.ttl(self.purpose) // 60)
        text = f"{code} is your sign-in code for {step.application}. It works for {minutes} minutes."
        queue_text(address, text, flow_id=step.flow_id)
