"""Brands through the management API: the entries `export` writes, checked as `apply` and the admin check them
(contrast, https links, the logo by its content), concurrency by If-Match, every write in the audit log, and
what a login page shows follows at once."""
import base64

import pytest

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from authflow.branding.models import Brand
from authflow.branding.services import page_brand
from tests.support.api import api_client
from tests.test_branding import data_url, png

pytestmark = pytest.mark.django_db

SHOP = {"application": "shop", "display_name": "Example Shop", "colors": {"accent": "#7a1f5c"},
        "links": {"privacy": "https://shop.example/privacy"}, "logo": data_url(png())}


@pytest.fixture
def shop():
    return Application.objects.create(name="shop", client_id="shop-app", client_type="public",
                                      steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]})


@pytest.fixture
def client():
    return api_client("branding:read", "branding:write")


def _errors(response):
    return [(e["field"], e["message"]) for e in response.json()["errors"]]


def test_create_read_change_and_delete_an_applications_brand(shop, client):
    created = client.post("/api/v1/brands/", SHOP, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["colors"] == {"text": "", "background": "", "accent": "#7a1f5c", "accent_text": ""}
    assert base64.b64decode(body["logo"].split(",", 1)[1]) == png()
    shop.refresh_from_db()
    assert page_brand(shop).display_name == "Example Shop" and page_brand(shop).logo_url
    read = client.get("/api/v1/brands/applications/shop/")
    assert read.json() == body and client.get("/api/v1/brands/").json()["results"] == [body]
    assert client.post("/api/v1/brands/", SHOP, format="json").status_code == 409

    change = {"display_name": "Shop", "logo": None}
    assert client.patch("/api/v1/brands/applications/shop/", change, format="json").status_code == 428
    assert client.patch("/api/v1/brands/applications/shop/", change, format="json",
                        HTTP_IF_MATCH='"0"').status_code == 412
    changed = client.patch("/api/v1/brands/applications/shop/", change, format="json", HTTP_IF_MATCH=read["ETag"])
    assert changed.status_code == 200, changed.content
    assert changed.json()["logo"] is None and changed.json()["colors"]["accent"] == "#7a1f5c"
    shop.refresh_from_db()
    assert page_brand(shop).display_name == "Shop" and not page_brand(shop).logo_url

    # A whole replacement clears what it leaves out.
    replaced = client.put("/api/v1/brands/applications/shop/", {"display_name": "Shop 2"}, format="json",
                          HTTP_IF_MATCH=changed["ETag"])
    assert replaced.status_code == 200 and replaced.json()["colors"]["accent"] == "" and replaced.json()["links"][
        "privacy"] == ""
    assert client.delete("/api/v1/brands/applications/shop/", HTTP_IF_MATCH=read["ETag"]).status_code == 412
    assert client.delete("/api/v1/brands/applications/shop/", HTTP_IF_MATCH=replaced["ETag"]).status_code == 204
    assert not Brand.objects.exists() and client.get("/api/v1/brands/applications/shop/").status_code == 404
    assert [(a.action, a.target_type, a.target_id) for a in AuditEntry.objects.order_by("id")] == [
        ("create", "brand", "shop"), ("update", "brand", "shop"), ("update", "brand", "shop"),
        ("delete", "brand", "shop")]


def test_the_default_brand_and_plain_base64_logos(shop, client):
    created = client.post("/api/v1/brands/", {"application": None, "display_name": "Example Corp",
                                              "logo": base64.b64encode(png(32, 32)).decode()}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["application"] is None and created.json()["logo"].startswith("data:image/png;base64,")
    shop.refresh_from_db()
    assert page_brand(shop).display_name == "Example Corp"  # an application without a brand of its own
    assert client.post("/api/v1/brands/", {"application": None}, format="json").status_code == 409
    read = client.get("/api/v1/brands/default/")
    assert read.json() == created.json()
    dark = {"colors": {"text": "#eeeeee", "background": "#111111", "accent": "#8ab4f8", "accent_text": "#111111"}}
    assert client.patch("/api/v1/brands/default/", dark, format="json", HTTP_IF_MATCH=read["ETag"]).status_code == 200
    # An application's brand is checked against the default's colours where it sets none.
    refused = client.post("/api/v1/brands/", {"application": "shop", "colors": {"text": "#222222"}}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "colors"
    assert "text on the page" in refused.json()["errors"][0]["message"] and not Brand.objects.filter(
        application=shop).exists()


@pytest.mark.parametrize("entry, field, message", [
    ({"colors": {"text": "#777777", "background": "#888888"}}, "colors", "contrast below 4.5:1"),
    ({"colors": {"accent": "red"}}, "colors", "not a colour written #rrggbb"),
    ({"links": {"privacy": "http://shop.example/privacy"}}, "links.privacy", "is not an https URL"),
    ({"logo": "data:image/svg+xml;base64," + base64.b64encode(b"<svg><script>alert(1)</script></svg>").decode()},
     "logo", "SVG"),
    ({"logo": data_url(png(), "image/jpeg")}, "logo", "declared image/jpeg but the content is image/png"),
    ({"logo": data_url(png(8, 8))}, "logo", "each side must be"),
    ({"logo": data_url(b"GIF89a" + b"\x00" * 40)}, "logo", "not a PNG, JPEG or WebP"),
    ({"logo": "not base64 at all!"}, "logo", "not valid base64"),
    ({"display_name": "two\nlines"}, "display_name", "on one line"),
    ({"application": "nobody"}, "application", "no application has this name"),
    ({"colors": "blue"}, "colors", "Expected a dictionary"),
])
def test_bad_brands_are_refused_with_the_field_at_fault_and_nothing_written(shop, client, entry, field, message):
    refused = client.post("/api/v1/brands/", {"application": "shop", **entry}, format="json")
    assert refused.status_code == 400, refused.content
    (got_field, got_message), = _errors(refused)
    assert got_field == field and message in got_message
    assert not Brand.objects.exists() and not AuditEntry.objects.exists()


def test_a_bad_change_leaves_the_brand_as_it_was(shop, client):
    created = client.post("/api/v1/brands/", SHOP, format="json")
    refused = client.put("/api/v1/brands/applications/shop/", {**SHOP, "colors": {"accent": "#ffff00"}},
                         format="json", HTTP_IF_MATCH=created["ETag"])
    assert refused.status_code == 400 and "links on the page" in refused.json()["errors"][0]["message"]
    assert client.get("/api/v1/brands/applications/shop/").json() == created.json()


def test_brands_need_the_branding_scopes(shop):
    reader = api_client("branding:read", name="reader")
    assert reader.get("/api/v1/brands/").status_code == 200
    assert reader.post("/api/v1/brands/", SHOP, format="json").status_code == 403
    assert api_client("applications:read", name="other").get("/api/v1/brands/").status_code == 403
