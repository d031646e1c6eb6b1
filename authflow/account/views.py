"""The account page and its actions (Django's CSRF protection guards every form here)."""
from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from authflow.sso import service as sso

# The other sections of the page, each from the app that owns it: a function
# (request) -> {"template": ..., more context} or None when it has nothing to show.
SECTIONS = [
    "authflow.factors.account.section",
    "authflow.passkeys.account.section",
    "authflow.federation.account.section",
]


@never_cache
@login_required
@require_http_methods(["GET"])
def account(request):
    current = sso.current(request)
    sessions = list(sso.active_sessions(request.user))
    rows = [{"session": s, "current": current is not None and s.pk == current.pk,
             "applications": [a.application.name for a in s.applications.all()]} for s in sessions]
    sections = [section for section in (import_string(path)(request) for path in SECTIONS) if section]
    return render(request, "account/account.html", {"rows": rows, "ended": request.GET.get("ended") == "1",
                                                    "sections": sections})


@login_required
@require_http_methods(["POST"])
def end_session(request, session_id):
    current = sso.current(request)
    if current is not None and str(current.pk) == str(session_id):
        logout(request)  # ends this session too
        return HttpResponseRedirect(reverse("account-signed-out"))
    sso.terminate(request.user, session_id, "ended on the account page")
    return HttpResponseRedirect(reverse("account") + "?ended=1")


@require_http_methods(["POST"])
def sign_out(request):
    logout(request)
    return HttpResponseRedirect(reverse("account-signed-out"))


@never_cache
@require_http_methods(["GET"])
def signed_out(request):
    return render(request, "account/signed_out.html")
