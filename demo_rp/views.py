"""The demo relying party's pages: a sign-in button, the callback, and sign-out.

The demo keeps its state in a signed cookie of its own (path /demo/), not in
the provider's session: it stands for a separate application, and must not
lose a sign-in when the provider rotates its session at login.  Pending
requests are kept per `state`, so several tabs can sign in at the same time.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from joserfc.errors import JoseError

from . import client

COOKIE = "demo_rp"
SALT = "demo_rp.state"
MAX_PENDING = 8  # sign-ins started and not finished, per browser


def _config(request):
    issuer = request.build_absolute_uri("/o")
    return settings.AUTHFLOW_DEMO_RP["client_id"], issuer, request.build_absolute_uri(reverse("demo-callback"))


def _load(request) -> dict:
    try:
        state = signing.loads(request.COOKIES.get(COOKIE, ""), salt=SALT, max_age=24 * 3600)
    except signing.BadSignature:
        return {"pending": {}}
    return state if isinstance(state, dict) else {"pending": {}}


def _save(response, state: dict):
    response.set_cookie(COOKIE, signing.dumps(state, salt=SALT, compress=True), path="/demo/", httponly=True,
                        samesite="Lax", max_age=24 * 3600, secure=settings.AUTHFLOW_HTTPS)
    return response


def _back_to_index(state: dict):
    return _save(HttpResponseRedirect(reverse("demo-index")), state)


@never_cache
def index(request):
    state = _load(request)
    return render(request, "demo_rp/index.html", {"claims": state.get("claims"), "error": state.get("error")})


@require_http_methods(["POST"])
def sign_in(request):
    client_id, issuer, callback = _config(request)
    discovery = client.discover(issuer)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    uri, oauth_state = client.session(client_id, callback).create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    state = _load(request)
    pending = dict(list(state.get("pending", {}).items())[-(MAX_PENDING - 1):])
    pending[oauth_state] = {"verifier": verifier, "nonce": nonce}
    state["pending"] = pending
    return _save(HttpResponseRedirect(uri), state)


@never_cache
def callback(request):
    client_id, issuer, callback_url = _config(request)
    state = _load(request)
    if "code" not in request.GET and "error" not in request.GET:
        return HttpResponseRedirect(reverse("demo-index"))  # back from signing out
    pending = state.get("pending", {}).pop(request.GET.get("state", ""), None)
    state.pop("error", None)
    if pending is None:
        state["error"] = "The sign-in response did not match a request of this demo."
        return _back_to_index(state)
    if "error" in request.GET:
        message = request.GET.get("error_description") or request.GET["error"]
        state["error"] = f"Sign-in refused: {message}"
        return _back_to_index(state)
    discovery = client.discover(issuer)
    oauth = client.session(client_id, callback_url, discovery["token_endpoint"])
    try:
        token = oauth.fetch_token(authorization_response=request.build_absolute_uri(), code_verifier=pending["verifier"])
        claims = client.validated_claims(token["id_token"], discovery, client_id, pending["nonce"])
    except (JoseError, KeyError, ValueError) as exc:
        state["error"] = f"The ID token was not valid: {exc}"
        return _back_to_index(state)
    except Exception as exc:  # noqa: BLE001 - shown to the person trying the demo
        state["error"] = f"The code could not be exchanged: {exc}"
        return _back_to_index(state)
    state.update(claims=claims, id_token=token["id_token"])
    return _back_to_index(state)


@require_http_methods(["POST"])
def sign_out(request):
    client_id, issuer, callback_url = _config(request)
    state = _load(request)
    id_token = state.get("id_token")
    discovery = client.discover(issuer)
    query = {"post_logout_redirect_uri": callback_url, "client_id": client_id}
    if id_token:
        query["id_token_hint"] = id_token
    return _save(HttpResponseRedirect(discovery["end_session_endpoint"] + "?" + urlencode(query)),
                 {"pending": state.get("pending", {})})
