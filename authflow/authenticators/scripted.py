"""ScriptedAuthenticator: a username and password that the application's callbacks script checks.

The page is the password page; `authenticate(theRequest, theOutcomeFactory)`
in the application's callbacks script (authflow.callbacks) decides: a
success names the local account that signs in (it must exist and be
active), a failure's message is shown. Attempts count against the username
and the address like a password's; the password reaches the script only,
never a log or a trace.
"""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_noop

from authflow.applications.models import Application
from authflow.callbacks.service import callbacks_source
from authflow.directory import lockout
from authflow.net import client_ip
from sequences.api import run_callback

from .base import Authenticator, Step, username_field
from .basic import FAILURE, fixed_username

logger = logging.getLogger("authflow.callbacks")
NOT_SET_UP = gettext_noop("Signing in this way is not available right now.")


class ScriptedAuthenticator(Authenticator):
    name = "ScriptedAuthenticator"
    display_name = gettext_noop("Username & Password")
    identifies_user = True
    template = "login/password.html"
    amr = "pwd"

    def context(self, request, step: Step) -> dict:
        return {"fixed_username": fixed_username(step)}

    def answer(self, request, step: Step) -> dict:
        username = step.subject or fixed_username(step) or username_field(request)
        password = request.POST.get("password", "")
        ip = client_ip(request)
        params = {"username": [username]}
        if lockout.address_blocked(ip):
            return step.failure(lockout.NETWORK_BLOCKED, params)
        with lockout.password_attempt(username, flow_id=step.flow_id) as attempt:
            if not attempt.allowed:
                return step.failure(attempt.message, params)
            application = Application.objects.filter(name=step.application).select_related(
                "callbacks_sequence").first()
            source = callbacks_source(application) if application is not None else None
            where = {"flow_id": step.flow_id, "application": step.application}
            if source is None:
                logger.error("ScriptedAuthenticator: the application has no callbacks script", extra=where)
                return step.failure(NOT_SET_UP, params)
            result = run_callback(source, "authenticate", {
                "username": username, "password": password, "remoteAddress": ip,
                "clientId": application.client_id,
            }, application_name=application.name, ip=ip)
            for line in result.logs:
                logger.log(logging.getLevelName(line["level"].upper()), "authenticate: %s", line["message"],
                           extra=where)
            if not result.ok:
                logger.warning("ScriptedAuthenticator: authenticate %s: %s",
                               "is not defined" if result.absent else "failed", result.error, extra=where)
                return step.failure(NOT_SET_UP, params)
            value = result.value
            if value["outcome"] == "failure":
                lockout.attempt_failed(attempt, ip)
                return step.failure(value.get("message") or FAILURE, params,
                                    user=username if attempt.known else None)
            user = get_user_model().objects.filter(username=value["username"], is_active=True).first()
            if user is None or (step.subject and user.username != step.subject):
                logger.warning("ScriptedAuthenticator: authenticate named an account that cannot sign in here",
                               extra={**where, "named": value["username"][:150]})
                lockout.attempt_failed(attempt, ip)
                return step.failure(FAILURE, params)
            if user.username == username:
                lockout.record_success(user)
        if user.username != username:  # another account's row: not while this name's is held (no deadlock)
            lockout.record_success(user)
        return step.success(user.username, params)
