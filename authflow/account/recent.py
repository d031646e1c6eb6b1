"""Changing how one signs in needs a recent sign-in, not only an open session.

A browser left signed in must not be enough to remove a second factor or add
a passkey: actions wrapped in `recent_login_required` send a user whose
last real sign-in (steps taken, not answered by the session) is older than
AUTHFLOW_REAUTH_SECONDS to sign in again, through the account application's
flow with every step asked again.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from authflow.sso import service as sso


def is_recent(request) -> bool:
    session = sso.current(request)
    limit = timedelta(seconds=getattr(settings, "AUTHFLOW_REAUTH_SECONDS", 600))
    return session is not None and timezone.now() - session.login_at <= limit


def reauthenticate_url(next_url: str = "/account/") -> str:
    return reverse("login-start") + "?" + urlencode({"next": next_url, "reauthenticate": "1"})


def recent_login_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_recent(request):
            messages.info(request, "For your security, sign in again, then repeat what you were doing.")
            return HttpResponseRedirect(reauthenticate_url())
        return view(request, *args, **kwargs)
    return wrapper
