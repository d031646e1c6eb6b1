"""OpenID Connect relying party: the authorization request out, and the checks on what comes back.

Authlib builds the requests (authorization code with PKCE S256, client
authentication client_secret_basic, client_secret_post or private_key_jwt); joserfc checks
the ID token against the provider's JWKS: signature with an asymmetric
algorithm the provider announced, issuer, audience (and azp), expiry, and
the nonce this login sent.  Discovery documents and key sets are cached
for a while; an unknown key id fetches the key set again once (rotation).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache

logger = logging.getLogger("authflow.federation")

TIMEOUT_SECONDS = 10
DISCOVERY_TTL_SECONDS = 3600
# Clock skew accepted on exp, iat and nbf.
LEEWAY_SECONDS = 60
# Asymmetric algorithms only: never "none", never a MAC keyed with the client secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# Authorization request parameters a script or an administrator may not set (this module owns them).
RESERVED_PARAMS = {"client_id", "redirect_uri", "response_type", "response_mode", "state", "nonce", "scope",
                   "code_challenge", "code_challenge_method", "request", "request_uri"}


class ProviderError(Exception):
    """The provider could not be used, or what it sent back was refused; the message is safe to show."""


@dataclass(frozen=True)
class Redeemed:
    """What a redeemed code gives: the remote claims, and what logging out at the provider later needs."""
    claims: dict
    id_token: str
    sid: str


def discovery(issuer: str) -> dict:
    """The provider's metadata (OpenID Connect Discovery 1.0), whose issuer must be the configured one."""
    key = "authflow:federation:discovery:" + issuer
    document = cache.get(key)
    if document is not None:
        return document
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = _get_json(url, "its discovery document")
    if document.get("issuer") != issuer:
        raise ProviderError("the provider's discovery document names another issuer")
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(field), str):
            raise ProviderError(f"the provider's discovery document has no {field}")
    cache.set(key, document, DISCOVERY_TTL_SECONDS)
    return document


def new_request_secrets() -> dict:
    """What one authorization request needs and the callback checks: state, nonce, PKCE code verifier."""
    return {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
            "code_verifier": secrets.token_urlsafe(64)}


def authorization_url(provider, metadata: dict, redirect_uri: str, request_secrets: dict, params: dict) -> str:
    session = _session(provider, redirect_uri)
    extra = {k: v for k, v in params.items() if k not in RESERVED_PARAMS}
    url, _ = session.create_authorization_url(
        metadata["authorization_endpoint"], state=request_secrets["state"], nonce=request_secrets["nonce"],
        code_verifier=request_secrets["code_verifier"], **extra)
    return url


def redeem(provider, metadata: dict, redirect_uri: str, code: str, request_secrets: dict) -> Redeemed:
    """Exchange the code, check the ID token, read userinfo: the remote claims (the ID token's, then userinfo's)."""
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.oauth2.rfc6749 import OAuth2Error
    from requests import RequestException

    session = _session(provider, redirect_uri)
    try:
        token = session.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                    code_verifier=request_secrets["code_verifier"], timeout=TIMEOUT_SECONDS)
    except (OAuth2Error, OAuthError) as exc:
        logger.warning("token request refused", extra={"idp": provider.name, "error": exc.error})
        raise ProviderError(f"the provider refused the code ({exc.error})") from None
    except (RequestException, ValueError) as exc:
        logger.warning("token request failed", extra={"idp": provider.name, "error": type(exc).__name__})
        raise ProviderError("the provider could not be reached") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise ProviderError("the provider sent no ID token")
    claims = validate_id_token(id_token, issuer=provider.issuer, client_id=provider.client_id,
                               nonce=request_secrets["nonce"], metadata=metadata)
    remote = dict(claims)
    if provider.use_userinfo and metadata.get("userinfo_endpoint") and token.get("access_token"):
        info = _userinfo(metadata["userinfo_endpoint"], token["access_token"])
        if info.get("sub") != claims["sub"]:
            raise ProviderError("the provider's userinfo is about another user")
        remote.update(info)
    for name in ("iss", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "c_hash", "auth_time", "sid", "jti"):
        remote.pop(name, None)
    sid = claims.get("sid")
    return Redeemed(claims=remote, id_token=id_token, sid=sid if isinstance(sid, str) and len(sid) <= 255 else "")


def validate_id_token(id_token: str, *, issuer: str, client_id: str, nonce: str, metadata: dict) -> dict:
    """The ID token's claims once every check passed; ProviderError naming the first that failed."""
    from joserfc import jwt  # joserfc and requests: imported by federation's first use, not by every worker
    from joserfc.errors import JoseError

    claims = _verified_claims(id_token, metadata, "the ID token")
    if claims.get("iss") != issuer:
        raise ProviderError("the ID token was issued by another provider")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences
    if not isinstance(audiences, list) or client_id not in audiences:
        raise ProviderError("the ID token is for another client (audience)")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise ProviderError("the ID token is for another client (azp)")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise ProviderError("the ID token's nonce is not this sign-in's")
    if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 255:
        raise ProviderError("the ID token names no subject")
    try:
        jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS, exp={"essential": True}, iat={"essential": True}).validate(claims)
    except JoseError as exc:
        raise ProviderError(f"the ID token is not valid now ({exc.error})") from None
    return claims


def _verified_claims(token: str, metadata: dict, what: str) -> dict:
    """The claims of a JWT the provider signed (with a key of its JWKS and an algorithm it announced)."""
    announced = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in ALGORITHMS if a in announced]
    if not algorithms:
        raise ProviderError("the provider signs ID tokens with no algorithm this server accepts")
    try:
        decoded = _decode(token, metadata["jwks_uri"], algorithms, refresh=False, what=what)
    except _UnknownKey:
        decoded = _decode(token, metadata["jwks_uri"], algorithms, refresh=True, what=what)
    return decoded.claims


class _UnknownKey(Exception):
    pass


def _decode(id_token: str, jwks_uri: str, algorithms: list[str], *, refresh: bool, what: str = "the ID token"):
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    key = "authflow:federation:jwks:" + jwks_uri
    jwks = None if refresh else cache.get(key)
    if jwks is None:
        jwks = _get_json(jwks_uri, "its signing keys")
        cache.set(key, jwks, DISCOVERY_TTL_SECONDS)
    try:
        key_set = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProviderError("the provider's signing keys could not be read") from None
    try:
        return jwt.decode(id_token, key_set, algorithms=algorithms)
    except JoseError as exc:
        if not refresh and exc.error in ("invalid_key_id", "missing_key"):
            raise _UnknownKey() from None
        raise ProviderError(f"{what}'s signature does not verify ({exc.error})") from None
    except (ValueError, TypeError):
        raise ProviderError(f"{what} is malformed") from None


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token older than this is refused; its jti is remembered as long (replays are refused).
LOGOUT_TOKEN_MAX_AGE_SECONDS = 10 * 60


def validate_logout_token(token: str, *, provider, metadata: dict) -> dict:
    """The claims of a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.6).

    Signed by the provider, its issuer, for this client, recent, with the logout event, a sid or a sub,
    no nonce, and a jti not seen before.  ProviderError names the first check that failed.
    """
    from joserfc import jwt
    from joserfc.errors import JoseError

    claims = _verified_claims(token, metadata, "the logout token")
    if claims.get("iss") != provider.issuer:
        raise ProviderError("the logout token was issued by another provider")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences
    if not isinstance(audiences, list) or provider.client_id not in audiences:
        raise ProviderError("the logout token is for another client (audience)")
    issued_at = claims.get("iat")
    now = time.time()
    if not isinstance(issued_at, (int, float)) or isinstance(issued_at, bool):
        raise ProviderError("the logout token has no iat")
    if issued_at > now + LEEWAY_SECONDS or issued_at < now - LOGOUT_TOKEN_MAX_AGE_SECONDS:
        raise ProviderError("the logout token is not recent (iat)")
    try:
        jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS).validate(claims)  # exp and nbf, when present
    except JoseError as exc:
        raise ProviderError(f"the logout token is not valid now ({exc.error})") from None
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise ProviderError("the logout token has no back-channel logout event")
    if "nonce" in claims:
        raise ProviderError("the logout token carries a nonce")
    sid, sub = claims.get("sid"), claims.get("sub")
    if not (isinstance(sid, str) and sid) and not (isinstance(sub, str) and sub):
        raise ProviderError("the logout token names neither a session (sid) nor a subject (sub)")
    # No sign-in here has one (PostgreSQL stores none), and looking one up was a 500.
    if any(isinstance(value, str) and "\x00" in value for value in (sid, sub)):
        raise ProviderError("the logout token's sid or sub holds a NUL character")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise ProviderError("the logout token has no jti")
    key = f"authflow:federation:logout-jti:{provider.name}:" + hashlib.sha256(jti.encode()).hexdigest()
    if not cache.add(key, 1, LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * LEEWAY_SECONDS):
        raise ProviderError("the logout token was already used (jti replay)")
    return claims


def end_session_url(metadata: dict, *, client_id: str, id_token: str, post_logout_redirect_uri: str,
                    state: str) -> str | None:
    """RP-initiated logout at the provider (OpenID Connect RP-Initiated Logout 1.0), or None if it has none."""
    endpoint = metadata.get("end_session_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None
    params = {"client_id": client_id, "post_logout_redirect_uri": post_logout_redirect_uri, "state": state}
    if id_token:
        params["id_token_hint"] = id_token
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def _userinfo(url: str, access_token: str) -> dict:
    import requests

    try:
        response = requests.get(url, headers={"Authorization": f"Bearer {access_token}",
                                              "Accept": "application/json"}, timeout=TIMEOUT_SECONDS)
    except requests.RequestException:
        raise ProviderError("the provider's userinfo endpoint could not be reached") from None
    if response.status_code != 200 or "json" not in response.headers.get("Content-Type", ""):
        raise ProviderError(f"the provider's userinfo endpoint answered {response.status_code}")
    try:
        info = response.json()
    except ValueError:
        raise ProviderError("the provider's userinfo is not JSON") from None
    if not isinstance(info, dict):
        raise ProviderError("the provider's userinfo is not a JSON object")
    return info


def _get_json(url: str, what: str) -> dict:
    import requests

    try:
        response = requests.get(url, headers={"Accept": "application/json"}, timeout=TIMEOUT_SECONDS)
    except requests.RequestException:
        raise ProviderError(f"the provider could not be reached for {what}") from None
    if response.status_code != 200:
        raise ProviderError(f"the provider answered {response.status_code} for {what}")
    try:
        document = response.json()
    except ValueError:
        raise ProviderError(f"the provider's answer for {what} is not JSON") from None
    if not isinstance(document, dict):
        raise ProviderError(f"the provider's answer for {what} is not a JSON object")
    return document


def _session(provider, redirect_uri: str):
    """Authlib's client session (Authlib is imported when a provider is first used, not by every web worker)."""
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

    if provider.client_auth_method == "private_key_jwt":
        key = provider.signing_key()
        session = OAuth2Session(provider.client_id, key, scope=provider.scopes, redirect_uri=redirect_uri,
                                code_challenge_method="S256", token_endpoint_auth_method="private_key_jwt")
        session.register_client_auth_method(PrivateKeyJWT(headers={"kid": key.kid}, alg="RS256"))
        return session
    return OAuth2Session(provider.client_id, provider.client_secret() or None, scope=provider.scopes,
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method=provider.client_auth_method)
