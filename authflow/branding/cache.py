"""The default brand, cached (Redis, the configured cache): what a page of no application shows, with no query.

An application's pages read their brand from Application.branding_snapshot instead (services.page_brand).
"""
from __future__ import annotations

from django.core.cache import cache

TIMEOUT = 300
DEFAULT_KEY = "authflow:brand:v1:default"


def forget() -> None:
    """The default brand changed: the next page of no application reads it again."""
    cache.delete(DEFAULT_KEY)
