"""Binding a flow to the browser that started it.

Each browser gets one random cookie; a flow stores the SHA-256 of it, so the
flow's URL alone is not enough to continue a login, while several flows (tabs)
of the same browser work side by side.

The same cookie protects the flow's forms against cross-site requests: each
form carries an HMAC of the flow id and the cookie, which another site can
neither read nor compute.  (Django's CSRF token would not do: signing in in
one tab rotates it and would break the forms open in the others.)
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

COOKIE = "authflow_browser"
MAX_AGE = 60 * 60 * 24 * 365


def browser_token(request) -> tuple[str, bool]:
    """The browser's token, and whether it is new (and must be set on the response)."""
    token = request.COOKIES.get(COOKIE, "")
    if len(token) == 43:
        return token, False
    return secrets.token_urlsafe(32), True


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches(request, flow) -> bool:
    token = request.COOKIES.get(COOKIE, "")
    return bool(token) and bool(flow.browser_hash) and hmac.compare_digest(digest(token), flow.browser_hash)


def set_cookie(response, token: str, secure: bool) -> None:
    secure = secure or settings.AUTHFLOW_HTTPS
    response.set_cookie(COOKIE, token, max_age=MAX_AGE, httponly=True, samesite="Lax", secure=secure)


def form_token(request, flow) -> str:
    token = request.COOKIES.get(COOKIE, "")
    message = f"authflow-form:{flow.id}:{token}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def form_token_is_valid(request, flow) -> bool:
    sent = request.POST.get("form_token", "")
    # Compared as bytes: compare_digest refuses str with characters outside ASCII (a forged token may have some).
    return (bool(sent) and matches(request, flow)
            and hmac.compare_digest(sent.encode(), form_token(request, flow).encode()))
