"""The branding app's API: the brand a page shows, writing a brand (apply, the admin), and exporting it.

    page_brand(application) -> PageBrand         no query: the application's snapshot (or the cached default)
    refresh_snapshots(application_ids)           after a brand changed (signals.py)
    put_brand(application, entry) -> "created" | "changed" | "unchanged"
    export_entries() -> list[dict]
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field

from django.core.cache import cache as shared_cache
from django.db import DatabaseError, transaction
from django.urls import reverse

from authflow.applications.models import Application

from . import cache, colours, logos, rules
from .models import Brand
from .rules import BrandError

__all__ = ["BrandError", "PageBrand", "page_brand", "put_brand", "export_entries", "stylesheet"]


@dataclass(frozen=True)
class PageBrand:
    display_name: str = "authflow"
    colours: dict = field(default_factory=lambda: dict(colours.DEFAULTS))
    links: tuple = ()  # (name, url): privacy, terms, help, those set
    logo_url: str = ""
    logo_width: int = 0
    logo_height: int = 0
    stylesheet_url: str = ""  # empty: the built-in colours


def _values(brand: Brand | None) -> dict | None:
    if brand is None:
        return None
    return {"pk": brand.pk, "display_name": brand.display_name, "theme": brand.theme, "links": brand.links,
            "logo_digest": brand.logo_digest, "logo_type": brand.logo_type, "logo_width": brand.logo_width,
            "logo_height": brand.logo_height}


def _default_brand() -> dict | None:
    """The default brand's values, from the cache or one query."""
    found = shared_cache.get(cache.DEFAULT_KEY)
    if found is not None:
        return found or None
    default = _values(Brand.objects.defer("logo").filter(application__isnull=True).order_by().first())
    shared_cache.set(cache.DEFAULT_KEY, default or False, cache.TIMEOUT)  # no brand is cached too (as False)
    return default


def page_brand(application=None) -> PageBrand:
    """What a page of `application` (None: a page of no application) shows: its brand over the default's.

    An application's pages read it from one place, the application's snapshot (loaded with the application: no
    query); the snapshot is made when the application is created and remade whenever a brand changes
    (signals.py).  A page of no application, or of one created around the signals (bulk_create) and so with no
    snapshot and no brand of its own, shows the default brand, kept in the cache."""
    snapshot = getattr(application, "branding_snapshot", None)
    if snapshot:
        return PageBrand(**{**snapshot, "links": tuple(tuple(link) for link in snapshot["links"])})
    try:
        default = _default_brand()
    except DatabaseError:  # the "try again" page of a database outage still renders, in the built-in look
        return PageBrand()
    return _page_brand(None, default)


def _page_brand(own: dict | None, default: dict | None) -> PageBrand:
    own, default = own or {}, default or {}
    theme = colours.effective((own.get("theme") or {}), default.get("theme") or {})
    links = {name: (own.get("links") or {}).get(name) or (default.get("links") or {}).get(name)
             for name in rules.LINK_NAMES}
    logo_from = own if own.get("logo_digest") else default
    logo_url = ""
    if logo_from.get("logo_digest"):
        extension = logo_from["logo_type"].split("/")[1]
        logo_url = reverse("branding-logo", args=[logo_from["pk"], logo_from["logo_digest"], extension])
    stylesheet_url = ""
    if theme != colours.DEFAULTS:
        stylesheet_url = reverse("branding-theme", args=[theme_digest(theme)]) + "?" + _theme_query(theme)
    return PageBrand(display_name=own.get("display_name") or default.get("display_name") or "authflow",
                     colours=theme, links=tuple((n, u) for n, u in links.items() if u), logo_url=logo_url,
                     logo_width=logo_from.get("logo_width", 0), logo_height=logo_from.get("logo_height", 0),
                     stylesheet_url=stylesheet_url)


def snapshot(own: Brand | None, default: Brand | None) -> dict:
    """What Application.branding_snapshot holds: the PageBrand of an application with these brands."""
    page = _page_brand(_values(own), _values(default))
    return {"display_name": page.display_name, "colours": page.colours, "links": [list(link) for link in page.links],
            "logo_url": page.logo_url, "logo_width": page.logo_width, "logo_height": page.logo_height,
            "stylesheet_url": page.stylesheet_url}


def refresh_snapshots(application_ids=None) -> None:
    """Recompute the applications' snapshots (all of them: the default brand changed)."""
    brands = {b.application_id: b for b in Brand.objects.defer("logo").order_by()}
    applications = Application.objects.all() if application_ids is None else Application.objects.filter(
        pk__in=application_ids)
    changed = []
    for application in applications.only("pk", "branding_snapshot"):
        value = snapshot(brands.get(application.pk), brands.get(None))
        if application.branding_snapshot != value:
            application.branding_snapshot = value
            changed.append(application)
    Application.objects.bulk_update(changed, ["branding_snapshot"])


def theme_digest(theme: dict) -> str:
    return hashlib.sha256(",".join(theme[n] for n in colours.NAMES).encode()).hexdigest()[:16]


def _theme_query(theme: dict) -> str:
    return "&".join(f"{name}={theme[name][1:]}" for name in colours.NAMES)


def stylesheet(theme: dict) -> str:
    """The theme as CSS custom properties: checked #rrggbb values only, nothing an administrator typed as CSS."""
    checked = {name: colours.normalised(theme.get(name)) or colours.DEFAULTS[name] for name in colours.NAMES}
    return (":root { "
            f"--fg: {checked['text']}; --muted: {checked['text']}; --bg: {checked['background']}; "
            f"--accent: {checked['accent']}; --accent-fg: {checked['accent_text']}; }}\n")


# ------------------------------------------------------------------ writing (apply, the admin)

def logo_from_data_url(value: str) -> tuple[bytes, str, int, int]:
    """A data: URL (data:image/png;base64,...) as (bytes, type, width, height), checked by logos.check."""
    if not isinstance(value, str) or not value.startswith("data:") or ";base64," not in value[:64]:
        raise BrandError("logo: expected a data URL, data:image/png;base64,...")
    declared, _, payload = value[5:].partition(";base64,")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise BrandError("logo: the data URL is not valid base64") from None
    try:
        kind, width, height = logos.check(data)
    except logos.LogoError as exc:
        raise BrandError(f"logo: {exc}") from None
    if declared and declared != kind:
        raise BrandError(f"logo: declared {declared[:30]} but the content is {kind}")
    return data, kind, width, height


def check_entry(entry: dict) -> dict:
    """A brand entry of `apply` (display_name, colors, links, logo), checked and normalised (the logo decoded)."""
    checked = {"display_name": rules.check_display_name(entry.get("display_name")),
               "links": rules.check_links(entry.get("links")),
               "theme": rules.check_theme(entry.get("colors"))}
    logo = entry.get("logo")
    checked["logo"] = logo_from_data_url(logo) if logo else None
    return checked


@transaction.atomic
def put_brand(application, checked: dict) -> str:
    """Create or update the brand of `application` (None: the default) from a check_entry() result."""
    brand = Brand.objects.select_for_update().order_by().filter(
        **({"application": application} if application is not None else {"application__isnull": True})).first()
    created = brand is None
    brand = brand or Brand(application=application)
    before = None if created else (_values(brand), bytes(brand.logo or b""))
    brand.display_name = checked["display_name"]
    for name, value in checked["theme"].items():
        setattr(brand, name, value)
    brand.privacy_url, brand.terms_url, brand.help_url = (checked["links"][n] for n in rules.LINK_NAMES)
    brand.set_logo(*(checked["logo"] or (None,)))
    brand.full_clean()
    if not created and before == (_values(brand), bytes(brand.logo or b"")):
        return "unchanged"
    brand.save()
    return "created" if created else "changed"


def export_entries() -> list[dict]:
    entries = []
    for brand in Brand.objects.select_related("application").order_by("application__name"):
        entry = {"application": brand.application.name} if brand.application_id else {}
        if brand.display_name:
            entry["display_name"] = brand.display_name
        theme = {name: value for name, value in brand.theme.items() if value}
        if theme:
            entry["colors"] = theme
        links = {name: url for name, url in brand.links.items() if url}
        if links:
            entry["links"] = links
        if brand.logo:
            entry["logo"] = f"data:{brand.logo_type};base64,{base64.b64encode(bytes(brand.logo)).decode()}"
        entries.append(entry)
    return entries
