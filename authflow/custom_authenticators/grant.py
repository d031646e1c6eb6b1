"""The token endpoint's custom authenticator grant: tokens for a user who passed a custom authenticator.

    grant_type=urn:authflow:params:oauth:grant-type:custom-authenticator
    authenticator=<name>&username=<username>&request_payload=<text>[&scope=...]

For apps that sign in with the factor alone. Only clients listed in
AUTHFLOW_CUSTOM_AUTHENTICATOR_GRANT_CLIENTS may use it (none by default); a
confidential client authenticates as for any grant. A failure is an
`invalid_grant` error carrying the script's status (and responsePayload);
the engine's 3000 range is a `server_error` (500); too many attempts a 429.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.base import GrantTypeBase

from authflow.directory.models import User

from . import services
from . import status as codes

GRANT_TYPE = "urn:authflow:params:oauth:grant-type:custom-authenticator"

logger = logging.getLogger("authflow.custom_authenticators")


class CustomAuthenticatorFailed(errors.OAuth2Error):
    """The authenticator said no (or could not answer): the OAuth error, with the outcome's fields."""

    def __init__(self, outcome: services.Outcome, request):
        if outcome.http_status == 429:
            self.error, description = "slow_down", "too many attempts; try again later"
        elif codes.is_engine_error(outcome.status):
            self.error, description = "server_error", "the authenticator could not process the request"
        else:
            self.error, description = "invalid_grant", "the custom authenticator did not authenticate the user"
        status = outcome.http_status if self.error != "invalid_grant" else 400
        super().__init__(description=description, request=request, status_code=status)
        self.outcome = outcome

    @property
    def twotuples(self):
        extra = [(k, v) for k, v in self.outcome.body().items() if k not in ("error", "message")]
        return super().twotuples + extra


class CustomAuthenticatorGrant(GrantTypeBase):
    def create_token_response(self, request, token_handler):
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as e:
            headers.update(e.headers)
            return headers, e.json, e.status_code
        token = token_handler.create_token(request, refresh_token=self.refresh_token)
        for modifier in self._token_modifiers:
            token = modifier(token)
        self.request_validator.save_token(token, request)
        return headers, json.dumps(token), 200

    def validate_token_request(self, request):
        for param in ("grant_type", "authenticator", "username", "request_payload", "scope"):
            if param in request.duplicate_params:
                raise errors.InvalidRequestError(description=f"Duplicate {param} parameter.", request=request)
        if self.request_validator.client_authentication_required(request):
            if not self.request_validator.authenticate_client(request):
                raise errors.InvalidClientError(request=request)
        elif not self.request_validator.authenticate_client_id(request.client_id, request):
            raise errors.InvalidClientError(request=request)
        if request.client.client_id not in settings.AUTHFLOW_CUSTOM_AUTHENTICATOR_GRANT_CLIENTS:
            raise errors.UnauthorizedClientError(request=request)
        name, username = getattr(request, "authenticator", None), getattr(request, "username", None)
        payload = getattr(request, "request_payload", None) or ""
        if not isinstance(name, str) or not name or not isinstance(username, str) or not username:
            raise errors.InvalidRequestError(description="authenticator and username are required.", request=request)
        problem = services.payload_problem(payload)
        if problem:
            raise errors.InvalidRequestError(description=problem.replace("requestPayload", "request_payload"),
                                             request=request)
        authenticator = services.enabled_authenticator(name)
        if authenticator is None:
            raise errors.InvalidRequestError(description="Unknown authenticator.", request=request)
        # scope first: a request the server would refuse anyway spends no attempt.
        if not request.scopes:
            request.scopes = self.request_validator.get_default_scopes(request.client_id, request)
        self.validate_scopes(request)
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            outcome = services.Outcome(codes.NOT_REGISTERED)  # as for a user without a registration
        else:
            outcome = services.authenticate(authenticator, user, payload)
        if not outcome.succeeded:
            logger.info("custom authenticator grant refused",
                        extra={"authenticator": name, "client_id": request.client.client_id, "status": outcome.status})
            raise CustomAuthenticatorFailed(outcome, request)
        request.user = user
