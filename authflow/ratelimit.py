"""Fixed-window counters in the shared cache (Redis when AUTHFLOW_CACHE_URL is set), for rate limits.

A window starts with the first event and lasts `window_seconds`; the count
is atomic across processes on Redis (INCR).  A cache that lost the key
(eviction, expiry between the two calls) starts a new window: the limits
err towards letting one more event through, never towards locking out.
"""
from django.core.cache import cache


def hit(key: str, window_seconds: int) -> int:
    """Count one event under `key`; how many there have been in the current window, this one included."""
    if cache.add(key, 1, window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window_seconds)
        return 1


def count(key: str) -> int:
    """How many events the current window of `key` has seen."""
    return cache.get(key, 0)
