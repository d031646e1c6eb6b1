"""The REST API mobile apps use: register, authenticate, deregister, and list a user's registrations.

Every call carries an access token of the user, issued by this server's
OpenID provider with the `custom_authenticators` scope. Authenticating to
*obtain* tokens with the factor alone is the token endpoint's custom
authenticator grant (grant.py), not this API.
"""
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services

SCOPE = "custom_authenticators"


class _UserAPIView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = [SCOPE]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser, FormParser]

    def authenticator_named(self, name):
        return services.enabled_authenticator(name)

    @staticmethod
    def unknown(name):
        return Response({"error": "unknown_authenticator", "message": f"There is no authenticator {name!r}."},
                        status=404)

    def request_payload(self, request):
        """The requestPayload field ("" when left out), or a 400 Response when it cannot be used."""
        data = request.data if hasattr(request.data, "get") else {}
        payload = data.get("requestPayload", "")
        problem = services.payload_problem(payload)
        if problem:
            return Response({"error": "invalid_request", "message": problem}, status=400)
        return payload

    def run(self, request, name, operation):
        """`operation(authenticator, user, payload)` for the token's user, answered with its outcome."""
        authenticator = self.authenticator_named(name)
        if authenticator is None:
            return self.unknown(name)
        payload = self.request_payload(request)
        if isinstance(payload, Response):
            return payload
        return self.answer(operation(authenticator, request.user, payload))

    @staticmethod
    def answer(outcome):
        return Response(outcome.body(), status=outcome.http_status)


class RegistrationsView(_UserAPIView):
    def get(self, request):
        return Response({"registrations": services.registrations_for(request.user)})


class RegistrationView(_UserAPIView):
    """POST registers the token's user with the authenticator; DELETE removes the registration."""

    def post(self, request, name):
        return self.run(request, name, services.register)

    def delete(self, request, name):
        return self.run(request, name, services.deregister)


class AuthenticationView(_UserAPIView):
    """The token's user proves the factor again (a step-up inside the app); no token is issued."""

    def post(self, request, name):
        return self.run(request, name, services.authenticate)
