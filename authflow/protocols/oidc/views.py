"""The authorization endpoint: every request runs the application's login flow, then the library issues the code.

And the token and userinfo endpoints, stricter than the library's.
"""
from __future__ import annotations

import hashlib
import logging
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauthlib.oauth2.rfc6749 import errors as oauth_errors
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import AuthorizationView as LibraryAuthorizationView
from oauth2_provider.views import TokenView as LibraryTokenView
from oauth2_provider.views import UserInfoView as LibraryUserInfoView

from authflow import ratelimit
from authflow.flows import service as flows
from authflow.net import client_ip

from ..models import IssuedCode
from . import authorization_requests, authorizations, request_clients

logger = logging.getLogger("authflow.oidc")


class AuthorizationView(LibraryAuthorizationView):
    def dispatch(self, request, *args, **kwargs):
        with request_clients.remembered():
            return self._dispatch(request, *args, **kwargs)

    def _dispatch(self, request, *args, **kwargs):
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        validated = getattr(request, "_authflow_validated", None)  # a login that ran in this request comes back
        login_ran_here = validated is not None
        if validated is None:
            validated = self._validate(request)
            if not isinstance(validated, tuple):
                return validated  # the error's page or redirect
            request._authflow_validated = validated
        authorization_request, client, scopes, credentials = validated
        flow_id = None
        if request.user.is_authenticated:
            # (A login that finished in this request added the entry: taken out again, the session is not written.)
            flow_id = authorizations.take(request.session, request.get_full_path(), remove=login_ran_here)
        if flow_id is None:
            return self.login_required(request, authorization_request)
        with transaction.atomic():
            # The session says which login authorized this request in this browser; the login's row says
            # whether its code was issued: many requests presenting one login get one code.
            if flows.claim_code(flow_id, subject=request.user.get_username()):
                response = self._issue(request, client, scopes, credentials, *args, **kwargs)
                code = parse_qs(urlsplit(response.get("Location", "")).query).get("code", [None])[0]
                if code:
                    IssuedCode.objects.create(code_sha256=code_digest(code), flow_id=flow_id)
                return response
        return self.login_required(request, authorization_request)

    def _validate(self, request):
        """(authorization request, client, scopes, credentials), or the response that refuses the request."""
        try:
            authorization_request = authorization_requests.parse(request.get_full_path())
        except authorization_requests.InvalidRequest as exc:
            return render(request, "login/problem.html", {"title": exc.title, "message": exc.message}, status=400)
        client = authorization_request.application.oidc_client
        request_clients.keep(client.client_id, client)  # read with the application: not again by the library
        try:
            # Other protocol errors (no PKCE, a bad scope...) go back to the registered redirect URI.
            scopes, credentials = self.validate_authorization_request(request)
            if request.GET.get("code_challenge_method", "plain") != "S256":
                # RFC 9700 2.1.1. The library would refuse "plain" only once the code is made,
                # after the user signed in for nothing; absent, the method is "plain" (RFC 7636).
                error = oauth_errors.InvalidRequestError(description='Unsupported code_challenge_method: use "S256".',
                                                         state=credentials.get("state"))
                error.redirect_uri = credentials["redirect_uri"]  # validated above: a registered one
                raise OAuthToolkitError(error=error)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        return authorization_request, client, scopes, credentials

    def _issue(self, request, client, scopes, credentials, *args, **kwargs):
        """The code, on the request validated above: the library's get() for a client without a consent
        screen (all of ours: clients.sync_client), less its second validation of the request and its read
        of the client.  Anything else it handles (prompt, RFC 8707 resources, a consent screen) goes to it."""
        if "prompt" in request.GET or "resource" in request.GET or not client.skip_authorization:
            return super().dispatch(request, *args, **kwargs)
        if isinstance(credentials.get("ui_locales"), list):
            credentials["ui_locales"] = " ".join(credentials["ui_locales"])
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True)
        except OAuthToolkitError as error:
            return self.error_response(error, client)
        return self.redirect(uri, client)

    def login_required(self, request, authorization_request):
        """No finished login for this request: the login URL (authflow.login.authorize starts the flow here)."""
        return redirect_to_login(request.get_full_path(), self.get_login_url(), self.get_redirect_field_name())


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class TokenView(LibraryTokenView):
    """The library's token endpoint, refusing an address after too many failed client authentications.

    Client secrets are checked with Argon2: without a limit an attacker could
    guess, and spend the server's CPU, without end.  Only failures count, so
    an application that authenticates correctly is never slowed down.
    """

    def post(self, request, *args, **kwargs):
        ip = client_ip(request)
        key = f"authflow:client-auth-failures:{ip}"
        window = settings.AUTHFLOW_ADDRESS_FAILURE_WINDOW_SECONDS
        if ip and ratelimit.count(key) >= settings.AUTHFLOW_CLIENT_AUTH_FAILURE_LIMIT:
            logger.warning("token request refused: too many failed client authentications from this address",
                           extra={"ip": ip})
            response = JsonResponse({"error": "temporarily_unavailable", "error_description":
                                     "too many failed client authentications from this address; try again later"},
                                    status=429)
            response["Retry-After"] = str(window)
            return response
        with request_clients.remembered():
            response = super().post(request, *args, **kwargs)
        if ip and response.status_code == 401:  # invalid_client
            ratelimit.hit(key, window)
        return response


    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request, *args, **kwargs):
        if app_authorized.has_listeners(self):
            return super().authorization_flow_token_response(request, *args, **kwargs)
        # The library's, less the read of the access token it just saved, which only its signal uses
        # (app_authorized: nothing here listens to it).
        url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for k, v in headers.items():
            response[k] = v
        return response


class UserInfoView(LibraryUserInfoView):
    """The library's userinfo endpoint, without access tokens in the query string (RFC 9700 4.3.2).

    The library refuses them on resource endpoints but not here; a token in a
    URL ends up in access logs and Referer headers.
    """

    def dispatch(self, request, *args, **kwargs):
        if "access_token" in request.GET:
            response = JsonResponse({"error": "invalid_request",
                                     "error_description": "send the access token in the Authorization header"},
                                    status=400)
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        return super().dispatch(request, *args, **kwargs)
