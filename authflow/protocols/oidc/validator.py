"""What the ID token and userinfo say about the user.

Userinfo and the ID token carry the directory's claims, by granted scope.
The ID token also carries what the login flow decided for this login: the
script's `user.claims` (under their OpenID Connect names, or their URIs),
`amr`, the authentication methods of the steps passed, and `acr` when the
script set context.selectedAcr.
"""
from __future__ import annotations

import json

from oauthlib.oauth2.rfc6749 import utils as oauth_utils
from oauth2_provider.models import get_access_token_model, get_application_model, get_grant_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from authflow.authenticators import registry
from authflow.callbacks import tokens as callback_tokens
from authflow.directory import claims as directory_claims
from authflow.flows.models import LoginFlow
from sequences.api import passed_steps

from ..models import IssuedCode
from . import request_clients, secret_checks

# Claims a script cannot set: the protocol's own.
# The directory's claims in the ID token and userinfo, each given by the scope the library's oidc_claim_scope says.
DIRECTORY_CLAIM_NAMES = frozenset(directory_claims.OIDC_NAMES.values()) | {"preferred_username"}
PROTOCOL_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "nonce", "auth_time", "at_hash", "c_hash", "azp",
                   "sid", "amr", "acr"}


class Validator(OAuth2Validator):
    """The library's validator, reading each row of a token request once.

    The library reads the authorization code's grant for each of its checks (the grant dispatcher's
    scopes, the code, its PKCE challenge and method, the redirect URI, the nonce, the resource) and
    the ID token it just made, again, to link the access token to it.  Here the grant (with its user)
    is read once per request and kept on the oauthlib request object, so nothing outlives the request;
    every check is still made, on that row: the code's client, its expiry, PKCE, the exact redirect
    URI.  That a code is used once is still settled by deleting its grant (invalidate_authorization_code).
    """

    def _grant(self, code, request, client=None):
        """The grant of `code` (None when there is none, or when it was issued to another client than `client`)."""
        kept = getattr(request, "authflow_grant", None)
        if kept is None or kept[0] != code:
            grant = (get_grant_model().objects.select_related("user").filter(code=code).first()
                     if isinstance(code, str) and "\x00" not in code else None)
            request.authflow_grant = kept = (code, grant)
        grant = kept[1]
        if grant is None or (client is not None and grant.application_id != client.pk):
            return None
        return grant

    def _grant_of_client(self, code, request):
        grant = self._grant(code, request, request.client)
        if grant is None:
            raise get_grant_model().DoesNotExist  # as the library's Grant.objects.get
        return grant

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return oauth_utils.scope_to_list(grant.scope) if grant is not None and grant.scope else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return grant.nonce if grant is not None and grant.nonce else None

    def get_code_challenge(self, code, request):
        return self._grant_of_client(code, request).code_challenge or None

    def get_code_challenge_method(self, code, request):
        return self._grant_of_client(code, request).code_challenge_method or None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request=None, *args, **kwargs):
        if request is None:
            return super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs)
        return self._grant_of_client(code, request).redirect_uri_allowed(redirect_uri)  # exact match

    def _check_and_set_request_resource(self, request):
        if request.grant_type != "authorization_code":
            return super()._check_and_set_request_resource(request)
        # The library's (RFC 8707), on the grant read for this request.
        resource = getattr(request, "resource", None)
        if isinstance(resource, str):
            body_values = [value for key, value in (getattr(request, "decoded_body", None) or []) if key == "resource"]
            if len(body_values) > 1:
                resource = body_values
        if isinstance(resource, list):
            request.resource = resource or []
        elif resource and isinstance(resource, str) and resource.strip():
            request.resource = [resource]
        else:
            request.resource = []
        self._validate_resource_uris(request, request.resource)
        grant = self._grant(request.code, request, request.client)
        grant_resource = (grant.resource or []) if grant is not None else []
        if request.resource and grant_resource:
            for res in request.resource:
                if res not in grant_resource:
                    raise oauth_errors.CustomOAuth2Error(
                        error="invalid_target",
                        description=(f"The requested resource '{res}' is not allowed. Token request cannot escalate "
                                     "resource permissions beyond the original authorization grant"),
                        request=request)
        elif grant_resource:
            self._validate_resource_uris(request, grant_resource)
            request.resource = grant_resource

    def finalize_id_token(self, id_token, token, token_handler, request):
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        request.authflow_id_token = (signed, request.id_token)
        return signed

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        made = getattr(request, "authflow_id_token", None)
        if made is None or token.get("id_token") != made[0]:
            return super()._create_access_token(expires, request, token, source_refresh_token)
        # The library's, with the ID token made in this request: its row, not read again (the library
        # checks the token's signature, then reads its application and its row to find it).
        access_token = get_access_token_model()(
            user=request.user, scope=token["scope"], expires=expires, id_token=made[1], application=request.client,
            source_refresh_token=source_refresh_token, resource=getattr(request, "resource", []))
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    def _check_secret(self, provided_secret, stored_secret):
        # Argon2 once per secret and process, then a keyed hash for a while (secret_checks).
        return secret_checks.check(provided_secret, stored_secret, super()._check_secret)

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
        if self.oidc_claim_scope and not any(self.oidc_claim_scope.get(name) in (request.scopes or ()) for name in DIRECTORY_CLAIM_NAMES):
            return {}  # no scope granted any of them (get_oidc_claims would leave them all out): nothing to read
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
        # The library's checks: a grant of this code for this client, not expired.
        grant = self._grant(code, request, client)
        if grant is None or grant.is_expired():
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
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

    # The code's login in one query (its id is a subquery of the flow's), only what the token needs of it.
    flow = (LoginFlow.objects.filter(pk=IssuedCode.objects.filter(code_sha256=code_digest(code)).values("flow_id")[:1])
            .values("result", "state").first())
    if flow is None:
        return {}
    result = flow["result"] or {}
    out = {}
    for uri, value in (result.get("claims") or {}).items():
        name = directory_claims.OIDC_NAMES.get(uri, uri)
        if name not in PROTOCOL_CLAIMS:
            out[name] = value
    methods = []
    for passed in passed_steps(flow["state"]):
        plugin = registry.get(passed["authenticator"])
        if plugin is not None and plugin.amr and plugin.amr not in methods:
            methods.append(plugin.amr)
    if len(methods) > 1:
        methods.append("mfa")
    if methods:
        out["amr"] = methods
    if result.get("acr"):
        out["acr"] = result["acr"]  # context.selectedAcr
    return out


def _flow_of_code(code):
    from .views import code_digest

    issued = IssuedCode.objects.filter(code_sha256=code_digest(code)).first()
    return issued.flow_id if issued is not None else None
