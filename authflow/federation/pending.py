"""Authorization requests sent to a provider and not yet answered, each usable once.

Kept in the cache (Redis) under a digest of its `state`, sealed with the
server's keys (the PKCE verifier and the nonce are secrets), for as long as
a user may take at the provider.  Taking one deletes it: a replayed or
second callback finds nothing.
"""
from __future__ import annotations

import hashlib

from django.core.cache import cache

from authflow import keys

TTL_SECONDS = 15 * 60
_PURPOSE = "federation-pending-request"


def _key(state: str) -> str:
    return "authflow:federation:pending:" + hashlib.sha256(state.encode()).hexdigest()


def remember(state: str, data: dict) -> None:
    cache.set(_key(state), keys.seal_json(data, purpose=_PURPOSE), TTL_SECONDS)


def known(state: str) -> bool:
    """Whether a request was sent with `state` and is not answered yet (without taking it)."""
    return isinstance(state, str) and 20 <= len(state) <= 200 and cache.get(_key(state)) is not None


def take(state: str) -> dict | None:
    """The request `state` was sent with, once; None when unknown, expired or already taken."""
    if not isinstance(state, str) or not 20 <= len(state) <= 200:
        return None
    key = _key(state)
    sealed = cache.get(key)
    if sealed is None or not cache.delete(key):  # the delete decides which of two racing callbacks wins
        return None
    try:
        return keys.open_json(sealed, purpose=_PURPOSE)
    except (keys.InvalidValue, ValueError):
        return None
