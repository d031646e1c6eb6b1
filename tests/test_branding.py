"""Branding: per application and a default, from `apply` and the admin, checked (contrast, https links, logos
by content), and shown on every page of a login without inline styles."""
import base64
import io
import re
import struct
import zlib
from html import unescape

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from authflow.applications.models import Application
from authflow.branding import colours
from authflow.branding.models import Brand
from authflow.configuration.export import export_config
from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db(transaction=True)


def png(width: int = 64, height: int = 32) -> bytes:
    """A real PNG (one grey pixel row repeated), made with the standard library."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


SCRIPT = """
var onLoginRequest = function (context) {
    prompt('genericForm', {title: 'Your team', inputs: [{id: 'team', label: 'Team'}]}, {
        onSuccess: function (context) { executeStep(1); }});
};"""


def apply(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    call_command("apply", "-f", str(path), stdout=io.StringIO())


@pytest.fixture
def branded(tmp_path):
    config = "applications:\n" + public_app("shop", '{1: ["BasicAuthenticator"]}', SCRIPT)
    config += public_app("plain", '{1: ["BasicAuthenticator"]}', "var onLoginRequest = function (c) { executeStep(1); };")
    config += "users:\n  - {username: ben, password: ben-password-123}\n"
    config += yaml.safe_dump({"branding": [
        {"display_name": "Example Group", "links": {"privacy": "https://example.com/privacy"}},
        {"application": "shop", "display_name": "Example Shop", "logo": data_url(png()),
         "colors": {"text": "#222222", "background": "#fffdf5", "accent": "#7a1f5c", "accent_text": "#ffffff"},
         "links": {"terms": "https://shop.example/terms", "help": "https://shop.example/help"}}]})
    apply(tmp_path, config)


def _authorize(client, client_id):
    page = client.get("/o/authorize/", {
        "client_id": client_id, "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK, "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCQaoWrCXFnwS4VCgf5qE_Hg", "code_challenge_method": "S256"}, follow=True)
    return page.redirect_chain[-1][0], page


def _fields(html: str) -> dict:
    return dict(re.findall(r'name="(form_token|position)" value="([^"]*)"', html))


def _brand_of(html: str) -> dict:
    return {"name": re.search(r'<span id="brand-name">([^<]*)</span>', html).group(1),
            "stylesheet": (re.search(r'<link rel="stylesheet" href="(/branding/theme/[^"]+)"', html) or [None, None])[1],
            "logo": (re.search(r'<img src="(/branding/logo/[^"]+)"', html) or [None, None])[1],
            "links": re.findall(r'<li><a href="(https://[^"]+)"', html),
            "inline_style": "style=" in html or "<style" in html}


def test_every_page_of_a_login_shows_its_applications_brand_over_the_default(branded):
    client = Client()
    url, prompt = _authorize(client, "shop")
    pages = [prompt.content.decode()]
    answered = client.post(url, {**_fields(pages[0]), "team": "blue"}, follow=True)
    pages.append(answered.content.decode())  # the password page
    failed = client.post(url, {**_fields(pages[1]), "username": "ben", "password": "wrong"}, follow=True)
    pages.append(failed.content.decode())  # the password page with its error
    assert "Your team" in pages[0] and 'name="password"' in pages[1] and 'role="alert"' in pages[2]
    for html in pages:
        brand = _brand_of(html)
        assert brand["name"] == "Example Shop" and brand["stylesheet"] and brand["logo"]
        # The application's terms and help, the default's privacy link (not set for the application).
        assert brand["links"] == ["https://example.com/privacy", "https://shop.example/terms",
                                  "https://shop.example/help"]
        assert not brand["inline_style"]
    stylesheet = client.get(unescape(brand["stylesheet"]))
    css = stylesheet.content.decode()
    assert stylesheet["Content-Type"] == "text/css; charset=utf-8" and "--accent: #7a1f5c" in css
    assert "--bg: #fffdf5" in css and stylesheet["X-Content-Type-Options"] == "nosniff"
    assert client.get(unescape(brand["stylesheet"]), HTTP_IF_NONE_MATCH=stylesheet["ETag"]).status_code == 304
    logo = client.get(brand["logo"])
    assert logo["Content-Type"] == "image/png" and logo.content == png()
    assert logo["X-Content-Type-Options"] == "nosniff" and "default-src 'none'" in logo["Content-Security-Policy"]
    assert client.get(brand["logo"].replace(".png", ".webp")).status_code == 404
    _, other = _authorize(Client(), "plain")
    brand = _brand_of(other.content.decode())
    assert brand["name"] == "Example Group" and brand["stylesheet"] is None and brand["logo"] is None
    assert brand["links"] == ["https://example.com/privacy"]


def test_apply_and_export_round_trip_a_brand_and_refuse_bad_values(branded, tmp_path):
    exported = export_config()["branding"]
    shop = next(e for e in exported if e.get("application") == "shop")
    assert shop["colors"]["accent"] == "#7a1f5c" and base64.b64decode(shop["logo"].split(",")[1]) == png()
    apply(tmp_path, yaml.safe_dump({"branding": exported}))  # idempotent
    assert Brand.objects.count() == 2
    bad = [({"application": "shop", "colors": {"text": "#777777", "background": "#ffffff"}}, "contrast below 4.5:1"),
           ({"application": "shop", "colors": {"accent": "red"}}, "#rrggbb"),
           ({"application": "shop", "colors": {"border": "#000000"}}, "unknown colours"),
           ({"application": "shop", "links": {"privacy": "http://example.com/p"}}, "not an https URL"),
           ({"application": "shop", "links": {"privacy": "javascript:alert(1)"}}, "not an https URL"),
           ({"application": "shop", "logo": data_url(b"<svg onload='alert(1)'/>", "image/svg+xml")}, "SVG"),
           ({"application": "shop", "logo": data_url(png(4000, 10))}, "each side must be"),
           ({"application": "shop", "logo": data_url(png(), "image/jpeg")}, "declared image/jpeg"),
           ({"application": "nosuchapp"}, "no application has this name"),
           ({"application": "shop", "css": "body{}"}, "css")]
    for entry, message in bad:
        with pytest.raises(Exception, match=re.escape(message)):
            apply(tmp_path, yaml.safe_dump({"branding": [entry]}))
    assert Brand.objects.get(application__name="shop").accent == "#7a1f5c"  # nothing half-written


def test_the_admin_refuses_a_logo_that_is_not_a_png_jpeg_or_webp_by_content(admin_client):
    Application.objects.create(name="shop", client_id="shop", client_type="public", redirect_uris=[CALLBACK],
                               steps={"1": [{"authenticator": "BasicAuthenticator"}]})
    application = Application.objects.get(name="shop")
    fields = {"application": application.pk, "display_name": "Shop", "text": "", "background": "", "accent": "",
              "accent_text": "", "privacy_url": "", "terms_url": "", "help_url": ""}
    refused = [(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.png", "SVG"),
               (b"<html><script>alert(1)</script></html>", "logo.png", "markup"),
               (b"GIF89a" + b"\x00" * 40, "logo.gif", "not a PNG, JPEG or WebP"),
               (png(), "logo.jpg", "named .jpg but its content is PNG"),
               (png(8, 8), "logo.png", "each side must be"),
               (png() + b"\x00" * (300 * 1024), "logo.png", "too large")]
    for content, name, message in refused:
        response = admin_client.post("/admin/branding/brand/add/", {
            **fields, "logo_upload": SimpleUploadedFile(name, content, content_type="image/png")})
        assert response.status_code == 200 and message in response.content.decode(), message
        assert not Brand.objects.exists()
    accepted = admin_client.post("/admin/branding/brand/add/", {
        **fields, "logo_upload": SimpleUploadedFile("logo.png", png(), content_type="image/png")})
    assert accepted.status_code == 302
    brand = Brand.objects.get()
    assert (brand.logo_type, brand.logo_width, brand.logo_height) == ("image/png", 64, 32)
    low = admin_client.post(f"/admin/branding/brand/{brand.pk}/change/",
                            {**fields, "text": "#999999", "background": "#ffffff"})
    assert "contrast below 4.5:1" in low.content.decode()


def test_contrast_is_measured_as_wcag_defines_it():
    assert round(colours.contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(colours.contrast("#767676", "#ffffff"), 2) == 4.54  # the lightest grey AA allows on white
    assert colours.check({"text": "#767676"})["text"] == "#767676"
    with pytest.raises(colours.ThemeError):
        colours.check({"text": "#777777"})
    with pytest.raises(colours.ThemeError):  # white buttons' text on a light accent
        colours.check({"accent": "#66aaff"})


def test_an_applications_page_reads_its_brand_from_the_application_alone_and_a_page_of_none_the_cached_default(
        branded, monkeypatch):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from authflow.branding import services

    def elsewhere():
        raise AssertionError("an application's page read the brand from somewhere else than the application")

    shop, plain = Application.objects.get(name="shop"), Application.objects.get(name="plain")
    cache.clear()
    with monkeypatch.context() as patched, CaptureQueriesContext(connection) as queries:
        patched.setattr(services, "_default_brand", elsewhere)
        own, default_only = services.page_brand(shop), services.page_brand(plain)
    assert not queries.captured_queries
    assert own.display_name == "Example Shop" and own.logo_url and own.colours["accent"] == "#7a1f5c"
    assert default_only.display_name == "Example Group" and not default_only.logo_url
    # A page of no application: the default brand, one query, then from the cache until the default changes.
    with CaptureQueriesContext(connection) as first:
        assert services.page_brand(None) == default_only
    with CaptureQueriesContext(connection) as again:
        assert services.page_brand(None) == default_only
    assert len(first.captured_queries) == 1 and not again.captured_queries
    default = Brand.objects.get(application__isnull=True)
    default.display_name = "Example Group Ltd"
    default.save()
    assert services.page_brand(None).display_name == "Example Group Ltd"
    plain.refresh_from_db()
    assert services.page_brand(plain).display_name == "Example Group Ltd"  # its snapshot was remade
    # An application created around the signals has no snapshot: it shows the default brand.
    Application.objects.filter(pk=plain.pk).update(branding_snapshot={})
    plain.refresh_from_db()
    assert services.page_brand(plain).display_name == "Example Group Ltd"
