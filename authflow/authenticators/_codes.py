"""Checking a one-time code from a device (TOTP, backup codes): what a wrong or throttled code does.

A wrong code counts as a failed sign-in of the account and the client
address (authflow.directory.lockout), and, as in the reference API, stays on
the authenticator's page when `enableRetryFromAuthenticator` is true, or is
a failed step the script decides about (onFail, or the step again) when not.
A code that was right once and is typed again is refused as already used
(saying so: the user waits for the next one).  The device slows tries down
after a few wrong codes in a row (authflow.factors.models.FREE_TRIES).
"""
from __future__ import annotations

import math

from django.utils import timezone
from django.utils.translation import ngettext

from authflow.directory import lockout
from authflow.net import client_ip

from .base import ShowAgain, Step


def retry_on_page(step: Step) -> bool:
    value = step.param("enableRetryFromAuthenticator", False)
    return value is True or str(value).strip().lower() == "true"


def check(request, step: Step, user, device, code: str, wrong: str, used: str) -> dict:
    """The step answer for `code` typed for `device` of `user` (either may be None: then it is wrong).

    `wrong` and `used` are the messages for a wrong code and for a code already used.
    """
    if user is not None and lockout.locked_for(user):
        return step.failure(lockout.locked_message(user))
    if device is not None:
        allowed, why = device.verify_is_allowed()
        if not allowed:
            left = ((why or {}).get("locked_until", timezone.now()) - timezone.now()).total_seconds()
            wait = max(1, math.ceil(left))
            raise ShowAgain(ngettext("Too many wrong codes in a row. Wait %(wait)d second before trying again.",
                                     "Too many wrong codes in a row. Wait %(wait)d seconds before trying again.",
                                     wait) % {"wait": wait})
        if code and device.verify_token(code):
            lockout.record_success(user)
            return step.success(user.get_username())
        if code and device.was_used(code):
            wrong = used
    lockout.record_failure(step.subject or "", client_ip(request), flow_id=step.flow_id,
                           authenticator=step.authenticator)
    if retry_on_page(step):
        raise ShowAgain(wrong)
    return step.failure(wrong)


def typed_code(request) -> str:
    return "".join(request.POST.get("code", "").split())[:32]
