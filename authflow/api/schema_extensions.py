"""How the OpenAPI schema describes the API's two ways in (loaded with the schema views, docs.py)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "authflow.api.access.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "an access token from /o/token/ (grant_type=client_credentials) with the scopes "
                               "the operation needs"}


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "authflow.api.access.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "a staff member's console session (writes need the X-CSRFToken header)"}
