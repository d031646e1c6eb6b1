"""BasicAuthenticator: username and password, checked by Django's auth backends (Argon2 hashes)."""
from __future__ import annotations

from django.contrib.auth import authenticate

from authflow.directory import lockout
from authflow.directory.models import User
from sequences.api import step_answer

NAME = "BasicAuthenticator"
TEMPLATE = "login/password.html"
FAILURE = "The username or password is not correct."


def answer(request, command: dict) -> dict:
    """The step answer for a submitted username and password (never carries the password)."""
    username = request.POST.get("username", "").strip()[:150]
    password = request.POST.get("password", "")
    ip = request.META.get("REMOTE_ADDR")
    params = {"username": [username]}

    def failed(error):
        return step_answer(command["step"], "fail", authenticator=NAME, params=params, error=error)

    if lockout.address_blocked(ip):
        return failed("Too many failed sign-ins from your network. Try again later.")
    account = User.objects.filter(username=username).first()
    if account is not None and lockout.locked_for(account):
        minutes = max(1, round(lockout.locked_for(account) / 60))
        return failed(f"This account is locked after too many failed sign-ins. Try again in {minutes} minute(s).")
    user = authenticate(request, username=username, password=password) if username and password else None
    if user is None:
        lockout.record_failure(username, ip)
        return failed(FAILURE)
    lockout.record_success(user)
    return step_answer(command["step"], "success", user=user.username, authenticator=NAME, params=params)
