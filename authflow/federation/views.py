"""Where an identity provider sends the browser back: the step it served succeeds or fails, and the flow goes on.

A callback that belongs to no request this browser sent (unknown, replayed
or changed state, another browser) ends on a page that says so and touches
no flow.  Anything the provider answers for a genuine request, an error, a
code that does not redeem, an ID token that fails a check, or a user the
policy refuses, fails the step: the script's onFail decides what follows.
"""
from __future__ import annotations

import logging

import secrets

from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from authflow.callbacks import service as callbacks
from authflow.flows import service
from authflow.login import binding, delivery, steps, targets
from authflow.login import views as login_views
from sequences.api import step_answer

from . import logout, oidc, pending, providers, saml
from .models import IdentityProvider

logger = logging.getLogger("authflow.federation")

_PROVIDER_ERRORS = {
    "access_denied": gettext_noop("You cancelled signing in with %(label)s, or it refused the sign-in."),
    "login_required": gettext_noop("%(label)s needs you to sign in there first."),
    "consent_required": gettext_noop("%(label)s needs your consent first."),
    "temporarily_unavailable": gettext_noop("%(label)s is not available right now."),
}


@require_http_methods(["GET"])
def jwks(request, name):
    """The public key this server signs its private_key_jwt client assertions to `name` with."""
    provider = IdentityProvider.objects.filter(name=name, client_auth_method="private_key_jwt").first()
    if provider is None:
        raise Http404("no such identity provider")
    response = JsonResponse(provider.public_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@never_cache
@require_http_methods(["GET"])
def oidc_callback(request, name):
    return _resume(request, name, pending.take(request.GET.get("state", "")), _answer)


def _resume(request, name, request_info, answer_with):
    """The checks every provider's answer passes (its request, this browser, the flow's step), then the answer."""
    if request_info is None or request_info.get("idp") != name:
        logger.warning("identity provider callback refused: unknown or used state", extra={"idp": name[:100]})
        return login_views.problem(
            request, _("This sign-in response is not valid"),
            _("It does not belong to a sign-in in progress in this browser, or it was already used. "
              "Go back to the application and sign in again."), status=400)
    flow = service.get_flow(request_info["flow_id"])
    if flow is None or not binding.matches(request, flow) or flow.browser_hash != request_info["browser"]:
        logger.warning("identity provider callback refused: another browser", extra={"idp": name})
        return login_views.problem(request, _("Continue in the browser you started in"),
                                   _("This sign-in was started in another browser (or its cookie was cleared)."),
                                   status=403)
    if not service.is_running(flow):
        return login_views.problem(request, _("This sign-in is already finished"),
                                   _("The provider answered after the sign-in ended."), status=409,
                                   restart=targets.restart_url(flow))
    command = flow.pending or {}
    position = request_info["position"]
    if command.get("type") != "step" or command.get("position") != position:
        return login_views.problem(request, _("This page is out of date"),
                                   _("The sign-in moved on (in another tab) while you were at the provider."),
                                   status=409, restart=targets.restart_url(flow))
    step = steps.step_of(flow, command, request_info["option"])
    answer = answer_with(request, flow, step, request_info, name)
    response = login_views.continue_with(request, flow, answer, position)
    return delivery.respond(request, flow.id, response)


def _answer(request, flow, step, request_info: dict, name: str) -> dict:
    provider = providers.enabled(name)
    if provider is None or step.idp != name:
        return step.failure(gettext_noop("This way of signing in is not available."))
    error = request.GET.get("error")
    if error:
        logger.info("identity provider returned an error", extra={"idp": name, "error": error[:100]})
        template = _PROVIDER_ERRORS.get(error, gettext_noop("%(label)s refused the sign-in."))
        return step.failure(_(template) % {"label": provider.label}, params={"error": [error[:100]]})
    code = request.GET.get("code", "")
    if not code or len(code) > 2000:
        return step.failure(_("%(label)s sent no authorization code.") % {"label": provider.label})
    try:
        redeemed = oidc.redeem(provider, oidc.discovery(provider.issuer), request_info["redirect_uri"], code,
                               request_info)
        claims = redeemed.claims
        username = providers.local_user(provider, claims, callbacks.username_namer(flow))
    except oidc.ProviderError as exc:
        logger.warning("identity provider response refused", extra={"idp": name, "reason": str(exc)})
        return step.failure(_("Signing in with %(label)s failed: %(reason)s.") % {"label": provider.label, "reason": exc})
    except providers.UserRefused as exc:
        return step.failure(str(exc))
    except callbacks.Refusal as exc:
        return step.failure(exc.message)
    logger.info("identity provider vouched for a user", extra={"idp": name, "username": username})
    logout.remember(provider, flow.id, subject=claims["sub"], sid=redeemed.sid, id_token=redeemed.id_token)
    return step_answer(step.number, "success", user=username, authenticator=step.authenticator or None,
                       idp=step.idp, remote_claims=providers.remote_claims(claims))


@require_http_methods(["GET"])
def saml_metadata(request, name):
    """This server's SP metadata for the SAML provider `name`: its entity id, ACS URL and signing certificate."""
    provider = IdentityProvider.objects.filter(name=name, protocol="saml").first()
    if provider is None:
        raise Http404("no such SAML identity provider")
    try:
        document = saml.sp_metadata(request, provider)
    except oidc.ProviderError as exc:
        return login_views.problem(request, _("SAML is not available"), str(exc), status=503)
    return HttpResponse(document, content_type="application/samlmetadata+xml")


@csrf_exempt  # the IdP's form posts here; the RelayState, bound to the flow and browser, is the protection
@never_cache
@require_http_methods(["GET", "POST"])
def saml_acs(request, name):
    """The IdP's HTTP-POST answer is parked (sealed, once) and the browser sent back here with a GET.

    A cross-site POST carries no SameSite=Lax cookie, so the browser binding could not be checked on it; the
    top-level GET that follows carries it.
    """
    if request.method == "POST":
        relay_state = request.POST.get("RelayState", "")
        saml_response = request.POST.get("SAMLResponse", "")
        # Only an answer to a request in progress is parked: nobody can fill the cache with posts of their own.
        if not saml_response or len(saml_response) > saml.MAX_RESPONSE_CHARS or not pending.known(relay_state):
            return _unknown_answer(request, name)
        token = secrets.token_urlsafe(32)
        pending.remember("saml-post:" + token, {"relay_state": relay_state[:200], "saml_response": saml_response})
        return HttpResponseRedirect(reverse("federation-saml-acs", args=[name]) + "?answer=" + token, status=303)
    parked = pending.take("saml-post:" + request.GET.get("answer", ""))
    if parked is None:
        return _unknown_answer(request, name)
    request_info = pending.take(parked["relay_state"])
    if request_info is not None:
        request_info["saml_response"] = parked["saml_response"]
    return _resume(request, name, request_info, _saml_answer)


def _unknown_answer(request, name):
    logger.warning("identity provider callback refused: unknown or used state", extra={"idp": name[:100]})
    return login_views.problem(
        request, _("This sign-in response is not valid"),
        _("It does not belong to a sign-in in progress in this browser, or it was already used. "
          "Go back to the application and sign in again."), status=400)


def _saml_answer(request, flow, step, request_info: dict, name: str) -> dict:
    # getUserName (callbacks scripts) names users an OpenID provider vouches for; a SAML provider's users are named
    # by the provider's settings.
    provider = providers.enabled(name)
    if provider is None or step.idp != name or provider.protocol != "saml":
        return step.failure(gettext_noop("This way of signing in is not available."))
    try:
        claims, session_index = saml.parse_response(request, provider, request_info["saml_response"],
                                                    request_info["request_id"])
        username = providers.local_user(provider, claims)
    except oidc.ProviderError as exc:
        logger.warning("identity provider response refused", extra={"idp": name, "reason": str(exc)})
        return step.failure(_("Signing in with %(label)s failed: %(reason)s.") % {"label": provider.label, "reason": exc})
    except providers.UserRefused as exc:
        return step.failure(str(exc))
    logger.info("identity provider vouched for a user", extra={"idp": name, "username": username})
    logout.remember(provider, flow.id, subject=claims["sub"], sid=session_index,
                    nameid_format=claims.get("nameid_format", ""))
    return step_answer(step.number, "success", user=username, authenticator=step.authenticator or None,
                       idp=step.idp, remote_claims=providers.remote_claims(claims))


@never_cache
@require_http_methods(["GET"])
def oidc_logged_out(request, name):
    """Where a provider sends the browser back after RP-initiated logout: on to the next provider, or home."""
    hop = logout.take_hop(name, request.GET.get("state", ""))
    if hop is None:
        return _unknown_sign_out(request, name)
    return logout.next_hop(request, hop["queue"], hop["return_to"])


@csrf_exempt  # the provider posts here server to server; the signed logout token is the protection
@never_cache
@require_http_methods(["POST"])
def oidc_backchannel_logout(request, name):
    """OpenID Connect Back-Channel Logout: the provider's logout token ends the sessions its sign-ins created.

    200 when the token is valid (whether or not a session here matched it), 400 with the reason otherwise.
    """
    provider = providers.enabled(name)
    if provider is None or provider.protocol != IdentityProvider.Protocol.OIDC:
        return _backchannel_answer(400, "invalid_request", "no such OpenID Connect identity provider")
    token = request.POST.get("logout_token", "")
    if not token or len(token) > 20_000:
        return _backchannel_answer(400, "invalid_request", "the request has no logout_token")
    try:
        claims = oidc.validate_logout_token(token, provider=provider, metadata=oidc.discovery(provider.issuer))
    except oidc.ProviderError as exc:
        logger.warning("back-channel logout refused", extra={"idp": name, "reason": str(exc)})
        return _backchannel_answer(400, "invalid_request", str(exc))
    sid = claims.get("sid") if isinstance(claims.get("sid"), str) else ""
    sub = claims.get("sub") if isinstance(claims.get("sub"), str) else ""
    ended = logout.end_sessions_of(provider, subject=sub, sids=[sid] if sid else [],
                                   reason=f"signed out at {provider.name}")
    return _backchannel_answer(200, sessions_ended=ended)


def _backchannel_answer(status: int, error: str = "", description: str = "", **fields):
    body = {"error": error, "error_description": description} if error else fields
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET"])
def saml_slo(request, name):
    """SAML single logout over HTTP-Redirect: the IdP's answer to our LogoutRequest, or its own LogoutRequest."""
    provider = providers.enabled(name)
    if provider is None or provider.protocol != IdentityProvider.Protocol.SAML:
        raise Http404("no such SAML identity provider")
    params = {k: request.GET[k] for k in ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")
              if k in request.GET}
    try:
        if "SAMLResponse" in params:
            hop = logout.take_hop(name, params.get("RelayState", ""))
            if hop is None:
                return _unknown_sign_out(request, name)
            saml.check_logout_response(request, provider, params, hop["request_id"])
            return logout.next_hop(request, hop["queue"], hop["return_to"])
        if "SAMLRequest" in params:
            def end(subject, session_indexes):
                logout.end_sessions_of(provider, subject=subject, sids=session_indexes,
                                       reason=f"signed out at {provider.name}")
            return HttpResponseRedirect(saml.answer_logout_request(request, provider, params, end))
    except oidc.ProviderError as exc:
        logger.warning("SAML logout message refused", extra={"idp": name, "reason": str(exc)})
        return login_views.problem(request, _("This sign-out message is not valid"),
                                   _("%(label)s's sign-out message was refused: %(reason)s. "
                                     "You are signed out of this server.") % {"label": provider.label, "reason": exc},
                                   status=400)
    return login_views.problem(request, _("This sign-out message is not valid"),
                               _("It carries no SAML request or response."), status=400)


def _unknown_sign_out(request, name):
    logger.warning("identity provider sign-out answer refused: unknown or used state", extra={"idp": name[:100]})
    return login_views.problem(
        request, _("This sign-out response is not valid"),
        _("It does not belong to a sign-out in progress in this browser, or it was already used. "
          "You are signed out of this server."), status=400)
