"""Fixed-window counters in the shared cache (Redis when AUTHFLOW_CACHE_URL is set), for rate limits.

A window starts with the first event and lasts `window_seconds`; the count
is atomic across processes on Redis (INCR).  A cache that lost the key
(eviction, expiry between the two calls) starts a new window.  A cache that
cannot be reached counts nothing: the limits are lifted (and each miss is
logged) rather than every sign-in failing while Redis is down; the lockout
of accounts after failed passwords is kept in the database and still holds.
"""
import logging

from django.core.cache import cache

logger = logging.getLogger("authflow.ratelimit")


def hit(key: str, window_seconds: int) -> int:
    """Count one event under `key`; how many there have been in the current window, this one included."""
    try:
        if cache.add(key, 1, window_seconds):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, window_seconds)
            return 1
    except Exception as exc:  # noqa: BLE001 - whatever the cache backend raises when it is unreachable
        _unreachable(key, exc)
        return 1


def count(key: str) -> int:
    """How many events the current window of `key` has seen."""
    try:
        return cache.get(key, 0)
    except Exception as exc:  # noqa: BLE001
        _unreachable(key, exc)
        return 0


def _unreachable(key: str, exc: Exception) -> None:
    logger.error("rate limit not applied: the cache is unreachable", extra={
        "limit": key.split(":")[1] if ":" in key else key, "error": type(exc).__name__})
