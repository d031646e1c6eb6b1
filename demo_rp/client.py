"""The demo's OpenID Connect client: Authlib for the protocol, joserfc for the ID token."""
from __future__ import annotations

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet


def discover(issuer_url: str) -> dict:
    return requests.get(issuer_url.rstrip("/") + "/.well-known/openid-configuration", timeout=10).json()


def session(client_id: str, redirect_uri: str, token_endpoint: str | None = None) -> OAuth2Session:
    return OAuth2Session(client_id, None, scope="openid profile email", redirect_uri=redirect_uri,
                         code_challenge_method="S256", token_endpoint=token_endpoint)


def validated_claims(id_token: str, discovery: dict, client_id: str, nonce: str) -> dict:
    """The ID token's claims after checking its signature, issuer, audience, nonce and expiry."""
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(token.claims)
    return token.claims
