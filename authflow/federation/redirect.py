"""Sending the browser to an identity provider for a step of a flow (the login pages call `redirect_out`)."""
from __future__ import annotations

import logging
import secrets

from django.http import HttpResponseRedirect
from django.urls import reverse

from . import oidc, pending, providers, saml

logger = logging.getLogger("authflow.federation")

# authenticatorParams of identifier first, which are this server's own (the username becomes login_hint).
_LOCAL_PARAMS = {"username", "inputType"}


def callback_url(request, provider) -> str:
    return request.build_absolute_uri(reverse("federation-oidc-callback", args=[provider.name]))


def request_params(provider, step_params: dict) -> dict:
    """The provider's extra parameters, then the step's authenticatorParams (common, federated.<idp>)."""
    params = {k: str(v) for k, v in (provider.extra_params or {}).items()}
    for name, value in (step_params or {}).items():
        if (isinstance(value, (str, int)) and not isinstance(value, bool) and name not in oidc.RESERVED_PARAMS
                and name not in _LOCAL_PARAMS):
            params[name] = str(value)[:2000]
    # Identifier first: the username typed here is the provider's login hint.
    if "login_hint" not in params and isinstance((step_params or {}).get("username"), str):
        params["login_hint"] = step_params["username"][:150]
    return params


def redirect_out(request, flow, step, option_index: int, provider):
    """A redirect to the provider's authorization endpoint; raises oidc.ProviderError if it cannot be used."""
    if provider.protocol == "saml":
        return _saml_redirect_out(request, flow, step, option_index, provider)
    metadata = oidc.discovery(provider.issuer)
    request_secrets = oidc.new_request_secrets()
    redirect_uri = callback_url(request, provider)
    url = oidc.authorization_url(provider, metadata, redirect_uri, request_secrets,
                                 request_params(provider, step.params))
    pending.remember(request_secrets["state"], {
        "idp": provider.name, "flow_id": str(flow.id), "position": step.position, "option": option_index,
        "browser": flow.browser_hash, "nonce": request_secrets["nonce"],
        "code_verifier": request_secrets["code_verifier"], "redirect_uri": redirect_uri})
    logger.info("sent to identity provider", extra={"flow_id": str(flow.id), "idp": provider.name})
    return HttpResponseRedirect(url)


def _saml_redirect_out(request, flow, step, option_index: int, provider):
    """The signed AuthnRequest over HTTP-Redirect; its RelayState is bound to the flow and browser like a state."""
    relay_state = secrets.token_urlsafe(32)
    params = {k: v for k, v in (step.params or {}).items() if k not in _LOCAL_PARAMS}
    if "login_hint" not in params and isinstance((step.params or {}).get("username"), str):
        params["login_hint"] = step.params["username"][:150]
    request_id, url = saml.authn_request(request, provider, relay_state, params)
    pending.remember(relay_state, {
        "idp": provider.name, "flow_id": str(flow.id), "position": step.position, "option": option_index,
        "browser": flow.browser_hash, "request_id": request_id})
    logger.info("sent to identity provider", extra={"flow_id": str(flow.id), "idp": provider.name})
    return HttpResponseRedirect(url)
