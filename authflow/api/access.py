"""Who is calling (an API client's access token, or a staff member's session) and what each endpoint needs.

Every view names the scope it reads with and the scope it writes with;
a token must carry the one the request needs (least privilege). Staff
sessions are the admin console's: each scope needs the console permission
that allows the same there (STAFF_PERMISSIONS), so the API gives a staff
member nothing the console would not; SessionAuthentication enforces CSRF
on their writes.
"""
from django.contrib.auth.models import AnonymousUser
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission


class ApiTokenAuthentication(OAuth2Authentication):
    """A bearer access token obtained by an API client with the client-credentials grant."""

    www_authenticate_realm = "authflow-api"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        _, token = result
        # A token issued to a user (an application's login) is never an API credential.
        if token.user_id is not None or getattr(token.application, "api_client", None) is None:
            request.oauth2_error = {"error": "invalid_token",
                                    "error_description": "not an API client's token"}
            return None
        return AnonymousUser(), token


class StaffSessionAuthentication(SessionAuthentication):
    """The console's staff, as the console admits them (signed in through the account application, so past its
    second factor); CSRF-checked like any form."""

    def authenticate(self, request):
        from django.contrib import admin

        result = super().authenticate(request)
        if result is None or not admin.site.has_permission(request._request):
            return None
        return result


def actor(request) -> str:
    token = request.auth
    if isinstance(token, AccessToken):
        return f"client:{token.application.client_id}"
    if request.user is not None and request.user.is_authenticated:
        return f"user:{request.user.get_username()}"
    return "anonymous"


# The admin console's permission a staff member needs for each scope.
STAFF_PERMISSIONS = {
    "sequences:read": "sequences.view_sequence",
    "sequences:write": "sequences.add_sequenceversion",
    "applications:read": "applications.view_application",
    "applications:write": "applications.change_application",
    "branding:read": "branding.view_brand",
    "branding:write": "branding.change_brand",
    "users:read": "directory.view_user",
    "users:write": "directory.change_user",
    "endpoints:read": "outbound.view_allowedendpoint",
    "endpoints:write": "outbound.change_allowedendpoint",
    "secrets:read": "vault.view_secret",
    "secrets:write": "vault.change_secret",
    "templates:read": "mail.view_emailtemplate",
    "templates:write": "mail.change_emailtemplate",
    "authenticators:read": "custom_authenticators.view_customauthenticator",
    "authenticators:write": "custom_authenticators.change_customauthenticator",
    "identity_providers:read": "federation.view_identityprovider",
    "identity_providers:write": "federation.change_identityprovider",
    "flows:read": "flows.view_loginflow",
    "audit:read": "management_api.view_auditentry",
    "smart:launch": "applications.change_application",
}


class HasScope(BasePermission):
    """The request's method needs the view's read_scope (GET, HEAD, OPTIONS) or write_scope (the rest)."""

    message = "the access token does not carry the scope this request needs"

    def has_permission(self, request, view):
        needed = view.read_scope if request.method in SAFE_METHODS else view.write_scope
        token = request.auth
        if isinstance(token, AccessToken):
            if needed in token.scope.split():
                return True
            self.message = f"this request needs the scope {needed}"
            return False
        user = request.user
        if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
            return False
        if user.has_perm(STAFF_PERMISSIONS[needed]):
            return True
        self.message = f"this request needs the console permission {STAFF_PERMISSIONS[needed]}"
        return False
