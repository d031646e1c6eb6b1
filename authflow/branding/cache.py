"""The brands a page shows, cached (Redis, the configured cache) so that a login page costs no query for them."""
from __future__ import annotations

from django.core.cache import cache

TIMEOUT = 300
DEFAULT = "default"


def key(application_id) -> str:
    return f"authflow:brand:v1:{application_id or DEFAULT}"


def forget(application_id) -> None:
    """A brand changed: the next page reads it again."""
    cache.delete(key(application_id))
