"""Account page actions for passkeys (Django's CSRF protection guards them; only the user's own passkeys).

Adding one is a WebAuthn registration in two JSON requests (static/js/passkey.js):
`register_begin` gives the creation options and a ceremony id (the state is
kept server-side, bound to the user, single use, for a few minutes), and
`register_complete` verifies the browser's answer and stores the passkey.
Adding and removing need a recent sign-in (authflow.account.recent);
renaming does not.  Every problem is a clear message, never a 500.
"""
from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.utils.translation import gettext as _, gettext_noop

from authflow.account import recent
from authflow.directory import lockout
from authflow.net import client_ip

from . import ceremonies, service
from .models import Ceremony, Passkey

logger = logging.getLogger("authflow.passkeys")

EXPIRED = gettext_noop("This request expired or was already used. Try again.")
NOT_YOURS = gettext_noop("That passkey is not on your account.")


def _json_error(message: str, status: int, **more) -> JsonResponse:
    return JsonResponse({"error": message, **more}, status=status)


@never_cache
@require_http_methods(["POST"])
def register_begin(request):
    if not request.user.is_authenticated:
        return _json_error("Your session ended. Sign in again.", 401,
                           redirect=reverse("login-start") + "?" + urlencode({"next": reverse("account")}))
    if not recent.is_recent(request):
        messages.info(request, _("For your security, sign in again, then add your passkey."))
        return _json_error("For your security, sign in again first.", 403, redirect=recent.reauthenticate_url())
    options, state = service.registration_options(service.relying_party(request), request.user)
    ceremony = Ceremony.begin(Ceremony.Kind.REGISTER, state, user=request.user)
    return JsonResponse({"publicKey": options, "ceremony": str(ceremony.pk)})


@never_cache
@require_http_methods(["POST"])
def register_complete(request):
    if not request.user.is_authenticated:
        return _json_error("Your session ended. Sign in again.", 401,
                           redirect=reverse("login-start") + "?" + urlencode({"next": reverse("account")}))
    user = request.user
    try:
        body = json.loads(request.body.decode("utf-8") or "null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return _json_error(ceremonies.NOT_READABLE, 400)
    state = Ceremony.take(body.get("ceremony"), Ceremony.Kind.REGISTER, user=user)
    if state is None:
        return _json_error(EXPIRED, 400)
    credential = body.get("credential")
    try:
        response = ceremonies.parse_json(credential) if isinstance(credential, str) else credential
        if not isinstance(response, dict):
            raise ceremonies.Malformed("no credential")
        new = ceremonies.verify_registration(service.relying_party(request), state, response)
    except ceremonies.Malformed as exc:
        logger.info("unreadable passkey registration", extra={"user": user.get_username(), "detail": exc.detail})
        return _json_error(str(exc), 400)
    except ceremonies.Refused as exc:
        lockout.record_failure(user.get_username(), client_ip(request), authenticator="FIDOAuthenticator")
        logger.warning("passkey registration refused", extra={"user": user.get_username(), "reason": exc.reason})
        return _json_error(str(exc), 400)
    try:
        passkey = service.store(user, new, body.get("name"))
    except service.AlreadyRegistered:
        return _json_error("This passkey is already registered.", 400)
    messages.success(request, f"The passkey “{passkey.name}” was added. You can sign in with it now.")
    return JsonResponse({"ok": True, "redirect": reverse("account")})


@login_required
@require_http_methods(["POST"])
def rename(request, passkey_id):
    passkey = Passkey.objects.filter(pk=passkey_id, user=request.user).first()
    name = service.clean_name(request.POST.get("name"))
    if passkey is None:
        messages.error(request, NOT_YOURS)
    elif not name:
        messages.error(request, _("Give the passkey a name."))
    else:
        old, passkey.name = passkey.name, name
        passkey.save(update_fields=["name"])
        logger.info("passkey renamed", extra={"user": request.user.get_username(), "credential": passkey.fingerprint})
        messages.success(request, f"The passkey “{old}” is now called “{name}”.")
    return HttpResponseRedirect(reverse("account"))


@login_required
@require_http_methods(["POST"])
@recent.recent_login_required
def remove(request, passkey_id):
    passkey = Passkey.objects.filter(pk=passkey_id, user=request.user).first()
    if passkey is None:
        messages.error(request, NOT_YOURS)
    else:
        passkey.delete()
        logger.info("passkey removed", extra={"user": request.user.get_username(), "credential": passkey.fingerprint})
        messages.success(request, f"The passkey “{passkey.name}” was removed: it no longer signs in to your account.")
    return HttpResponseRedirect(reverse("account"))
