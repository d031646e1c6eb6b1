"""The API's scopes, and which OAuth clients may be granted them.

API scopes go only to API clients (ApiClient), only the ones listed for that
client, and only through the client-credentials grant: an application's login
(authorization code) can never obtain `users:write`.
"""
from oauth2_provider.scopes import SettingsScopes

API_SCOPES = {
    "sequences:read": "Read login scripts, libraries and their versions; simulate them",
    "sequences:write": "Create scripts, libraries and versions; publish versions",
    "applications:read": "Read applications",
    "applications:write": "Create and change applications",
    "branding:read": "Read brands (the login pages' look)",
    "branding:write": "Create, change and delete brands",
    "users:read": "Read users and roles",
    "users:write": "Create and change users and roles, set passwords, unlock",
    "endpoints:read": "Read the endpoints scripts may call",
    "endpoints:write": "Change the endpoints scripts may call",
    "secrets:read": "List the names of scripts' secrets (never their values)",
    "secrets:write": "Set and delete scripts' secrets",
    "templates:read": "Read email templates",
    "templates:write": "Change email templates",
    "authenticators:read": "Read custom authenticators and their scripts",
    "authenticators:write": "Create, change and delete custom authenticators",
    "identity_providers:read": "Read identity providers (never their client secrets)",
    "identity_providers:write": "Create, change and delete identity providers, set their client secrets",
    "flows:read": "Read recorded login flows",
    "audit:read": "Read the audit log",
    "smart:launch": "Register EHR launches (a patient and encounter context) for applications",
}


def granted_scopes(client) -> list[str]:
    if client is None or not client.pk or client.authorization_grant_type != client.GRANT_CLIENT_CREDENTIALS:
        return []  # API clients are client-credentials clients: an application's login costs no lookup here
    api_client = getattr(client, "api_client", None)
    return list(api_client.scopes) if api_client is not None else []


class ApiAwareScopes(SettingsScopes):
    """The OpenID Connect scopes for applications; an API client's own scopes for it."""

    def get_all_scopes(self):
        return {**super().get_all_scopes(), **API_SCOPES}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and granted_scopes(application):
            grant = getattr(request, "grant_type", None)
            return granted_scopes(application) if grant in (None, "client_credentials") else []
        return super().get_available_scopes(application, request, *args, **kwargs)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and granted_scopes(application):
            return granted_scopes(application)
        return super().get_default_scopes(application, request, *args, **kwargs)
