"""Client secrets checked with Argon2 once per process, then recognised by a keyed hash for a while.

Every token request authenticates its client, and a client secret's Argon2 check (19 MiB,
hashers.py) is 20 to 40 ms of CPU: most of a token request, paid again for a secret this process
accepted a second ago.  A secret that passed its check is remembered here as HMAC-SHA256 under a
key drawn at random by this process (never stored, never sent), next to the stored hash it matched;
the same secret against the same stored hash is then recognised by comparing HMACs in constant time.

What does not change:
- at rest, the database holds only the Argon2 hash;
- a wrong secret is always checked with Argon2 (a guess costs what it did, and the token endpoint's
  rate limit counts it); only successes are remembered;
- a changed secret is a new stored hash: the old secret stops working at once, on every process;
  a removed or disabled client is refused by the checks around this one (its row is read anyway);
- a remembered secret is forgotten after AUTHFLOW_CLIENT_SECRET_CACHE_SECONDS (0: never remembered),
  and at most MAX_REMEMBERED are kept (the least recently used go first).

What it costs: someone who can read this process's memory could test guesses against an HMAC
instead of Argon2; such a reader also sees the secrets of the requests in flight, the signing key
and the database password.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict

from django.conf import settings

MAX_REMEMBERED = 1024

_lock = threading.Lock()
_key: bytes | None = None
_remembered: OrderedDict[str, tuple[bytes, float]] = OrderedDict()  # stored hash -> (HMAC of the secret, until)


def _seconds() -> float:
    return float(getattr(settings, "AUTHFLOW_CLIENT_SECRET_CACHE_SECONDS", 300))


def _mac(secret: str) -> bytes:
    global _key
    if _key is None:
        with _lock:
            if _key is None:
                _key = os.urandom(32)  # first use, not import: nothing happens when the module loads
    return hmac.new(_key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def check(provided: str, stored: str, full_check) -> bool:
    """Whether `provided` is the secret hashed in `stored`: `full_check(provided, stored)` (Argon2) unless
    this process accepted the same secret against the same stored hash less than the cache time ago."""
    seconds = _seconds()
    if seconds <= 0 or not isinstance(provided, str) or not stored:
        return full_check(provided, stored)
    mac = _mac(provided)
    now = time.monotonic()
    with _lock:
        entry = _remembered.get(stored)
        remembered = entry is not None and entry[1] > now
        if remembered:
            _remembered.move_to_end(stored)
    if remembered and hmac.compare_digest(entry[0], mac):
        return True
    if not full_check(provided, stored):
        return False
    with _lock:
        _remembered[stored] = (mac, now + seconds)
        _remembered.move_to_end(stored)
        while len(_remembered) > MAX_REMEMBERED:
            _remembered.popitem(last=False)
    return True


def forget_all() -> None:
    """Forget every remembered secret (tests; a process that wants Argon2 for the next checks)."""
    with _lock:
        _remembered.clear()
