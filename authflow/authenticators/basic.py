"""BasicAuthenticator: username and password, checked by Django's auth backends (Argon2 hashes)."""
from __future__ import annotations

from django.contrib.auth import authenticate

from sequences.api import step_answer

NAME = "BasicAuthenticator"
TEMPLATE = "login/password.html"
FAILURE = "The username or password is not correct."


def answer(request, command: dict) -> dict:
    """The step answer for a submitted username and password (never carries the password)."""
    username = request.POST.get("username", "").strip()[:150]
    password = request.POST.get("password", "")
    params = {"username": [username]}
    user = authenticate(request, username=username, password=password) if username and password else None
    if user is None:
        return step_answer(command["step"], "fail", authenticator=NAME, params=params, error=FAILURE)
    return step_answer(command["step"], "success", user=user.username, authenticator=NAME, params=params)
