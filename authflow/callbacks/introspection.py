"""Token introspection (RFC 7662) that also gives the claims of the JWT access tokens callbacks scripts shape."""
from __future__ import annotations

import json

from django.http import JsonResponse
from jwcrypto import jwt
from jwcrypto.common import JWException
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauth2_provider.views import IntrospectTokenView as LibraryIntrospectTokenView

# What the library's answer says about the token stays as it says it (it reads the token's row).
KEPT_FROM_LIBRARY = {"active", "scope", "exp", "client_id", "username", "aud"}


def signed_claims(token_value: str) -> dict | None:
    """The claims of a JWT access token this provider signed, or None (an opaque token, or not ours)."""
    if not isinstance(token_value, str) or token_value.count(".") != 2:
        return None
    try:
        token = jwt.JWT(jwt=token_value, key=jwk_from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY), algs=["RS256"],
                        check_claims=False)
        claims = json.loads(token.claims)
    except (JWException, ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


class IntrospectTokenView(LibraryIntrospectTokenView):
    @staticmethod
    def get_token_response(token_value=None):
        response = LibraryIntrospectTokenView.get_token_response(token_value)
        if response.status_code != 200:
            return response
        data = json.loads(response.content)
        claims = signed_claims(token_value) if data.get("active") else None
        if not claims:
            return response
        merged = {name: value for name, value in claims.items() if name not in KEPT_FROM_LIBRARY}
        merged.update(data)
        return JsonResponse(merged)
