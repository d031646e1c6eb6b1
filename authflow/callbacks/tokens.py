"""The token endpoint's part of the callbacks: onTokenGenerating, and access tokens as signed JWTs (RFC 9068).

For an application with a callbacks script, once the authorization code is
found valid (`prepare`, from the validator's validate_code; for a
client-credentials grant, once the scopes are, with no user session) the scopes become
what the login's grant approved, onTokenGenerating may change them and add
launch context and access-token claims, and the access token is a JWT signed
with the provider's OpenID Connect key carrying those claims
(`access_token_generator`, OAUTH2_PROVIDER["ACCESS_TOKEN_GENERATOR"]). Other
applications keep opaque random tokens.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from urllib.parse import parse_qsl, urlsplit

from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauthlib.oauth2.rfc6749.tokens import random_token_generator

from authflow.flows import service as flows
from sequences.api import run_callback

from . import service
from .models import LoginGrant

logger = logging.getLogger("authflow.callbacks")
# Token response members a script's launch context parameters cannot replace.
PROTOCOL_RESPONSE_KEYS = {"access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token", "state"}
# Access token claims a script cannot set (RFC 9068's own).
PROTOCOL_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "auth_time", "acr", "amr"}


def _application(request):
    return getattr(request.client, "authflow_app", None) if getattr(request, "client", None) is not None else None


def _authorization_params(flow) -> dict:
    path = (flow.return_to.get("request") or flow.return_to.get("restart") or "") if flow is not None else ""
    return dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))


def _token_request_params(request) -> dict:
    """A client-credentials request's own parameters (no authorization request), less the client's secrets."""
    return {name: value for name, value in (request.decoded_body or [])
            if name not in ("client_secret", "client_assertion")}


def response_extras(grant: LoginGrant | None) -> dict:
    """SMART launch context (patient, encounter, fhirContext) and the authorities, for the token response."""
    if grant is None:
        return {}
    out = dict(grant.launch)
    if grant.fhir_context:
        out["fhirContext"] = list(grant.fhir_context)
    if grant.authorities:
        out["authorities"] = list(grant.authorities)
    return out


def allows_client_credentials(request) -> bool:
    """A confidential application with a callbacks script may use the client-credentials grant (no user)."""
    app = _application(request)
    return (app is not None and app.callbacks_sequence_id is not None
            and getattr(request.client, "client_type", None) == "confidential"
            and service.callbacks_source(app) is not None)


def prepare(request, flow_of_code) -> bool:
    """Settle the token's scopes, launch context and claims; False refuses the request (invalid_grant).

    `flow_of_code()` is the id of the login the code came from: asked only for an application with a
    callbacks script (only those have grants), so other applications' token requests cost no query here.
    """
    app = _application(request)
    if app is None or app.callbacks_sequence_id is None:
        return True
    flow_id = flow_of_code()
    grant = service.grant_for_flow(flow_id) if flow_id is not None else None
    source = service.callbacks_source(app)
    if grant is None and source is None:
        return True
    scopes = list(grant.approved_scopes) if grant is not None else list(request.scopes or [])
    extras = response_extras(grant)
    claims = {}
    if source is not None:
        flow = flows.get_flow(flow_id) if flow_id is not None else None
        params = _authorization_params(flow) if flow is not None else _token_request_params(request)
        user = getattr(request, "user", None)
        result = run_callback(source, "onTokenGenerating", {
            "session": {"username": user.get_username(), "approvedScopes": scopes} if user is not None else None,
            "approvedScopes": scopes, "clientId": request.client_id, "audience": params.get("aud"),
            "launch": params.get("launch"), "requestParameters": params,
            "launchContext": dict(grant.ehr_launch) if grant is not None and grant.ehr_launch else None,
        }, application_name=app.name)
        where = {"flow_id": str(flow_id) if flow_id else None, "application": app.name}
        for line in result.logs:
            logger.log(logging.getLevelName(line["level"].upper()), "onTokenGenerating: %s", line["message"], extra=where)
        if not result.ok and not result.absent:
            logger.warning("token refused: onTokenGenerating failed: %s", result.error, extra=where)
            return False
        if result.ok:
            value = result.value
            scopes = value["approvedScopes"]
            launch_holder = LoginGrant(launch={}, fhir_context=[])
            service.add_launch(launch_holder, value["launch"])
            for name, item in launch_holder.launch.items():
                extras[name] = item  # onTokenGenerating's launch context replaces the login's
            if launch_holder.fhir_context:
                extras["fhirContext"] = extras.get("fhirContext", []) + launch_holder.fhir_context
            for name, item in value["launchParameters"].items():
                if name not in PROTOCOL_RESPONSE_KEYS:
                    extras[name] = item
            claims = {name: item for name, item in value["claims"].items() if name not in PROTOCOL_CLAIMS}
    request.scopes = scopes
    request.authflow_token = {"extras": extras, "claims": claims}
    return True


def access_token_generator(request, refresh_token=False):
    """A signed JWT for the tokens `prepare` settled, else the library's opaque random token."""
    prepared = getattr(request, "authflow_token", None)
    if prepared is None or refresh_token:
        return random_token_generator(request)
    now = int(time.time())
    user = getattr(request, "user", None)
    claims = dict(prepared["claims"])
    for name in ("patient", "encounter", "fhirContext", "authorities"):
        if name in prepared["extras"]:
            claims.setdefault(name, prepared["extras"][name])
    claims.update({
        "iss": oauth2_settings.oidc_issuer(request),
        "sub": user.get_username() if user is not None else request.client_id,
        "aud": request.client_id,
        "client_id": request.client_id,
        "scope": " ".join(request.scopes or []),
        "iat": now,
        "exp": now + oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
        "jti": secrets.token_urlsafe(16),
    })
    from jwcrypto import jwt

    key = jwk_from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    token = jwt.JWT(header=json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": key.thumbprint()}),
                    claims=json.dumps(claims, default=str))
    token.make_signed_token(key)
    return token.serialize()


def post_authorize(request, token: dict) -> None:
    """onPostAuthorize, once per issued grant: it cannot cancel it; its errors are logged, never shown."""
    app = _application(request)
    source = service.callbacks_source(app) if app is not None else None
    if source is None:
        return
    user = getattr(request, "user", None)
    result = run_callback(source, "onPostAuthorize", {
        "grantType": getattr(request, "grant_type", None), "grantedScopes": (token.get("scope") or "").split(),
        "clientId": request.client_id, "username": user.get_username() if user is not None else None,
    }, application_name=app.name)
    where = {"application": app.name, "client_id": request.client_id}
    for line in result.logs:
        logger.log(logging.getLevelName(line["level"].upper()), "onPostAuthorize: %s", line["message"], extra=where)
    if not result.ok and not result.absent:
        logger.warning("onPostAuthorize failed (the grant stands): %s", result.error, extra=where)
