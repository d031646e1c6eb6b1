"""What the ID token and userinfo say about the user.

Userinfo and the ID token carry the directory's claims, by granted scope.
The ID token also carries what the login flow decided for this login: the
script's `user.claims` (under their OpenID Connect names, or their URIs),
`amr`, the authentication methods of the steps passed, and `acr` when the
script set context.selectedAcr.
"""
from __future__ import annotations

from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from authflow.authenticators import registry
from authflow.callbacks import tokens as callback_tokens
from authflow.directory import claims as directory_claims
from authflow.flows import service as flows
from sequences.api import passed_steps

from ..models import IssuedCode
from . import request_clients

# Claims a script cannot set: the protocol's own.
PROTOCOL_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "nonce", "auth_time", "at_hash", "c_hash", "azp",
                   "sid", "amr", "acr"}


class Validator(OAuth2Validator):
    def _load_application(self, client_id, request):
        # A client_id from a Basic Authorization header is decoded here (base64, then percent-decoding), after
        # authflow.nul_bytes looked at the request: one with a NUL is no client (PostgreSQL cannot look it up).
        if isinstance(client_id, str) and "\x00" in client_id:
            return None
        if not request.client:
            # The library checks it is still usable.  Read here with the application it belongs to, which
            # the token request's callbacks ask for next (callbacks.tokens).
            request.client = request_clients.known(client_id) or (
                get_application_model().objects.select_related("authflow_app").filter(client_id=client_id).first()
                if isinstance(client_id, str) else None)
        client = super()._load_application(client_id, request)
        request_clients.keep(client_id, client)
        return client

    def get_additional_claims(self, request):
        user = request.user
        known = directory_claims.read_claims(user)
        out = {name: known.get(uri) for uri, name in directory_claims.OIDC_NAMES.items()}
        out["preferred_username"] = user.username
        return {key: value for key, value in out.items() if value}

    def get_oidc_claims(self, token, token_handler, request):
        claims = super().get_oidc_claims(token, token_handler, request)
        code = getattr(request, "code", None)  # set at the token endpoint, not for userinfo
        if code:
            claims.update(login_claims(code))
        return claims

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        # The application's callbacks settle the token's scopes, launch context and claims (or refuse it).
        return callback_tokens.prepare(request, lambda: _flow_of_code(code))

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type == "client_credentials" and callback_tokens.allows_client_credentials(request):
            return True  # SMART backend services: a confidential application with a callbacks script
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        if request.grant_type == "client_credentials" and not callback_tokens.prepare(request, lambda: None):
            raise oauth_errors.InvalidGrantError(description="The application's token rules refused the request.",
                                                 request=request)
        return True

    def save_bearer_token(self, token, request, *args, **kwargs):
        super().save_bearer_token(token, request, *args, **kwargs)
        prepared = getattr(request, "authflow_token", None)
        if prepared is not None:  # what the callbacks granted: SMART launch context, authorities
            token.update({k: v for k, v in prepared["extras"].items() if k not in token})
        callback_tokens.post_authorize(request, token)

    # prompt=none: the login flow decides whether the request can be answered
    # without the user (authflow.login.views.start), and there is no consent
    # screen to skip (consent is a prompt in the application's script).
    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True


def login_claims(code: str) -> dict:
    """The claims the login flow behind `code` adds to the ID token."""
    from .views import code_digest

    # The code's login in one query: its id is a subquery of the flow's.
    flow = flows.get_flow(IssuedCode.objects.filter(code_sha256=code_digest(code)).values("flow_id")[:1])
    if flow is None:
        return {}
    out = {}
    for uri, value in ((flow.result or {}).get("claims") or {}).items():
        name = directory_claims.OIDC_NAMES.get(uri, uri)
        if name not in PROTOCOL_CLAIMS:
            out[name] = value
    methods = []
    for passed in passed_steps(flow.state):
        plugin = registry.get(passed["authenticator"])
        if plugin is not None and plugin.amr and plugin.amr not in methods:
            methods.append(plugin.amr)
    if len(methods) > 1:
        methods.append("mfa")
    if methods:
        out["amr"] = methods
    if (flow.result or {}).get("acr"):
        out["acr"] = flow.result["acr"]  # context.selectedAcr
    return out


def _flow_of_code(code):
    from .views import code_digest

    issued = IssuedCode.objects.filter(code_sha256=code_digest(code)).first()
    return issued.flow_id if issued is not None else None
