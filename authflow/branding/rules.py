"""The checks a brand passes, shared by `apply`, the admin and the API of this app (services.put_brand)."""
from __future__ import annotations

from urllib.parse import urlsplit

from . import colours

LINK_NAMES = ("privacy", "terms", "help")
MAX_NAME = 80
MAX_URL = 500


class BrandError(ValueError):
    pass


def check_display_name(value) -> str:
    text = "" if value is None else str(value)
    if len(text) > MAX_NAME or any(ord(c) < 32 for c in text):
        raise BrandError(f"display_name: at most {MAX_NAME} characters on one line")
    return text.strip()


def check_links(links) -> dict:
    """{privacy, terms, help}: each an https URL or empty."""
    links = links or {}
    if not isinstance(links, dict):
        raise BrandError("links: expected a mapping with privacy, terms and help")
    unknown = set(links) - set(LINK_NAMES)
    if unknown:
        raise BrandError(f"links: unknown {', '.join(sorted(map(str, unknown)))} (the links are privacy, terms, help)")
    checked = {}
    for name in LINK_NAMES:
        url = str(links.get(name) or "").strip()
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname or len(url) > MAX_URL or any(c.isspace() for c in url):
                raise BrandError(f"links.{name}: {url[:80]!r} is not an https URL")
        checked[name] = url
    return checked


def check_theme(theme, fallback: dict | None = None) -> dict:
    if not isinstance(theme or {}, dict):
        raise BrandError("colors: expected a mapping with " + ", ".join(colours.NAMES))
    try:
        return colours.check(theme or {}, fallback)
    except colours.ThemeError as exc:
        raise BrandError(f"colors: {exc}") from None
