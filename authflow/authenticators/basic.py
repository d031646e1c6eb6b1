"""BasicAuthenticator: a username and password, checked by Django's auth backends (Argon2 hashes).

Failures count against the account (the failedLoginAttempts claim, and a
lockout) and the client address (see authflow.directory.lockout).  After an
earlier step identified the user, or when the script passes the username
(authenticatorParams {username, inputType: 'identifierFirst'}, as after
promptIdentifierForStep), only the password is asked for.
"""
from __future__ import annotations

from django.contrib.auth import authenticate

from authflow.directory import lockout
from authflow.directory.models import User
from authflow.net import client_ip

from .base import Authenticator, Step, username_field

FAILURE = "The username or password is not correct."


class BasicAuthenticator(Authenticator):
    name = "BasicAuthenticator"
    display_name = "Username & Password"
    identifies_user = True
    template = "login/password.html"
    amr = "pwd"

    def is_enrolled(self, user) -> bool:
        return user.has_usable_password()

    def context(self, request, step: Step) -> dict:
        return {"fixed_username": fixed_username(step)}

    def answer(self, request, step: Step) -> dict:
        username = step.subject or fixed_username(step) or username_field(request)
        password = request.POST.get("password", "")
        ip = client_ip(request)
        params = {"username": [username]}
        if lockout.address_blocked(ip):
            return step.failure(lockout.NETWORK_BLOCKED, params)
        account = User.objects.filter(username=username).first()
        if account is not None and lockout.locked_for(account):
            return step.failure(lockout.locked_message(account), params)
        user = authenticate(request, username=username, password=password) if username and password else None
        if user is None:
            lockout.record_failure(username, ip)
            return step.failure(FAILURE, params)
        lockout.record_success(user)
        return step.success(user.username, params)


def fixed_username(step: Step) -> str:
    """The username a script gave the step (authenticatorParams {username, inputType: 'identifierFirst'}), if any."""
    if str(step.param("inputType", "")) == "identifierFirst" and isinstance(step.param("username"), str):
        return step.param("username").strip()[:150]
    return ""
