"""Where sendError(url, params) may send the browser: a path of this server, or under an allowed prefix.

AUTHFLOW_ERROR_URL_ALLOW_LIST holds URL prefixes, matched as the endpoints
scripts may call are (authflow.outbound.allowlist): once the URL is
normalised, its scheme, host and port must be exactly a prefix's, and its
path the prefix's path or below it at a segment boundary ("/app" covers
"/app/error", not "/application").  A plain string prefix would let
"https://good.example" admit "https://good.example.evil.com", and a URL
with credentials, a backslash or an encoded dot or slash can mean another
place to a browser than to the check: those are refused.  The redirect goes
to the normalised URL, so what was checked is where the browser goes.

A relative URL must be a path of this server ("/..."): never "//host", and
without the backslashes, spaces and control characters browsers drop or
read as slashes ("/\\t/evil.example" is "//evil.example" to a browser).
"""
from __future__ import annotations

import logging
import re

from django.conf import settings

from authflow.outbound.allowlist import NotAllowed, normalise

logger = logging.getLogger("authflow.login")

_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f\\]")


def redirect_url(url: str) -> str | None:
    """The address to send the browser to for sendError(url), or None when it is not allowed."""
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("/"):
        return url if not url.startswith("//") and not _UNSAFE_IN_PATH.search(url) else None
    try:
        address = normalise(url)
    except NotAllowed:
        return None
    return address.url if any(address.below(prefix) for prefix in _prefixes()) else None


def _prefixes():
    prefixes = []
    for entry in settings.AUTHFLOW_ERROR_URL_ALLOW_LIST:
        try:
            prefixes.append(normalise(entry.strip(), prefix=True))
        except NotAllowed as exc:
            logger.error("AUTHFLOW_ERROR_URL_ALLOW_LIST has an entry that allows nothing",
                         extra={"entry": entry[:200], "error": str(exc)})
    return prefixes
