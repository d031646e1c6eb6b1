"""Calls with OAuth 2.0 client credentials (authConfig clientcredential, callChoreo): a token, then the request.

    perform(request, timeout=..., **perform_options) -> http.Outcome

The worker asks the token endpoint for an access token (the client
credentials grant, RFC 6749 section 4.4, the client authenticated with HTTP
Basic), sends the request with it as a Bearer token, and when the answer is
401 fetches a new token and sends it once more (the token may have been
revoked or expired early).  Both requests share the call's time.

Tokens are cached in the shared cache (Redis when configured) until shortly
before they expire, sealed with the server's keys (authflow.keys), under a
keyed digest of the token endpoint, the client, the scope and the client's
secret: a script that names a client with a wrong secret never gets the
token another application's right secret fetched.  A cache that cannot be
reached only means one more token request.  Tokens and secrets are never
logged.
"""
from __future__ import annotations

import base64
import json
import logging
import time
from urllib.parse import quote

from django.core.cache import cache

from authflow import keys

from . import http

logger = logging.getLogger("authflow.outbound")

TOKEN_PURPOSE = "client-credential-token"
# Tokens are dropped this long before they expire, and kept at most MAX_CACHE_SECONDS (DEFAULT without expires_in).
EXPIRY_MARGIN_SECONDS = 30
DEFAULT_CACHE_SECONDS = 300
MAX_CACHE_SECONDS = 3600
MAX_TOKEN_RESPONSE_BYTES = 16 * 1024


class NoToken(Exception):
    """The token endpoint gave no token: `outcome` is the call's (fail or timeout)."""

    def __init__(self, outcome: http.Outcome):
        super().__init__(outcome.detail)
        self.outcome = outcome


def perform(request: dict, *, timeout: float, **options) -> http.Outcome:
    """Make `request`; with "clientCredential", with a Bearer token got for it (and once more after a 401)."""
    credential = request.get("clientCredential")
    if not credential:
        return http.perform(request, timeout=timeout, **options)
    started = time.monotonic()
    plain = {key: value for key, value in request.items() if key != "clientCredential"}
    for attempt in (1, 2):
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            return http.timed_out()
        try:
            token = access_token(credential, timeout=left, fresh=attempt == 2)
        except NoToken as failed:
            return failed.outcome
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            return http.timed_out()
        headers = {k: v for k, v in (plain.get("headers") or {}).items() if k.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {token}"
        outcome = http.perform({**plain, "headers": headers}, timeout=left, **options)
        if outcome.http_status != 401:
            return outcome
        forget(credential)
        if attempt == 1:
            logger.info("outbound call answered 401: fetching a new access token once",
                        extra={"token_endpoint": _loggable(credential["tokenEndpoint"])})
    return outcome


def access_token(credential: dict, *, timeout: float, fresh: bool = False) -> str:
    """A token for the client credentials `credential` (from the cache unless `fresh`); NoToken when none came."""
    key = _cache_key(credential)
    if not fresh:
        cached = _cached(key)
        if cached:
            return cached
    body = {"grant_type": ["client_credentials"]}
    if credential.get("scope"):
        body["scope"] = [credential["scope"]]
    # RFC 6749 section 2.3.1: the client id and secret are form-encoded before they are joined.
    pair = f"{quote(credential['consumerKey'], safe='')}:{quote(credential['consumerSecret'], safe='')}"
    request = {"method": "POST", "url": credential["tokenEndpoint"], "form": body,
               "headers": {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                           "Content-Type": "application/x-www-form-urlencoded"}}
    outcome = http.perform(request, timeout=timeout, max_bytes=MAX_TOKEN_RESPONSE_BYTES)
    where = {"token_endpoint": _loggable(credential["tokenEndpoint"]), "http_status": outcome.http_status}
    if outcome.result == "timeout":
        logger.warning("no access token: the token endpoint timed out", extra=where)
        raise NoToken(outcome)
    data = outcome.data if isinstance(outcome.data, dict) else {}
    token = data.get("access_token") if outcome.result == "success" else None
    if not isinstance(token, str) or not token or any(c in token for c in "\r\n\0"):
        logger.warning("no access token from the token endpoint", extra={**where, "detail": outcome.detail})
        error = {"error": "could not get an access token"}
        if outcome.http_status is not None:
            error["status"] = outcome.http_status
        raise NoToken(http.Outcome("fail", error, outcome.http_status, "no access token"))
    _store(key, token, data.get("expires_in"))
    return token


def forget(credential: dict) -> None:
    """Drop the cached token of `credential` (it was refused)."""
    try:
        cache.delete(_cache_key(credential))
    except Exception:  # noqa: BLE001 - an unreachable cache only costs a token request
        logger.warning("the token cache is unreachable")


def _cache_key(credential: dict) -> str:
    parts = [credential["tokenEndpoint"], credential["consumerKey"], credential.get("scope") or "",
             credential["consumerSecret"]]
    digest = keys.mac(json.dumps(parts).encode(), purpose=TOKEN_PURPOSE)
    return "authflow:outbound:token:" + digest.replace(":", "-")


def _cached(key: str) -> str | None:
    try:
        sealed = cache.get(key)
    except Exception:  # noqa: BLE001
        logger.warning("the token cache is unreachable: fetching a token")
        return None
    if not isinstance(sealed, str):
        return None
    try:
        return keys.open_json(sealed, purpose=TOKEN_PURPOSE)
    except (keys.InvalidValue, ValueError):
        return None


def _store(key: str, token: str, expires_in) -> None:
    seconds = DEFAULT_CACHE_SECONDS
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
        seconds = int(expires_in) - EXPIRY_MARGIN_SECONDS
    elif isinstance(expires_in, str) and expires_in.isdigit():
        seconds = int(expires_in) - EXPIRY_MARGIN_SECONDS
    seconds = min(seconds, MAX_CACHE_SECONDS)
    if seconds <= 0:
        return
    try:
        cache.set(key, keys.seal_json(token, purpose=TOKEN_PURPOSE), seconds)
    except Exception:  # noqa: BLE001
        logger.warning("the token cache is unreachable: the token is not kept")


def _loggable(url: str) -> str:
    return (url or "").split("?", 1)[0][:300]
