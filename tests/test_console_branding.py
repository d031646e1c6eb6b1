"""The console's brand pages: the default brand and an application's, written through the API (its checks, its
audit entries), contrast errors beside the colours, a rejected logo, a preview coloured by a stylesheet (no
inline style), and what a login page shows follows."""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from authflow.branding.models import Brand
from authflow.branding.services import page_brand
from authflow.directory.models import User
from tests.support.console import sign_in_to_console, staff  # noqa: F401  (staff: a fixture)
from tests.test_branding import png
from tests.test_console_admin_pages import etag_on, text_of, token

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return Application.objects.create(name="shop", client_id="shop-app", client_type="public",
                                      steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]})


def _save(staff, url, **fields):
    page = staff.get(url)
    return staff.post(url, {"csrfmiddlewaretoken": token(staff), "etag": etag_on(page), **fields})


def test_an_administrator_sets_the_default_brand_then_an_applications_over_it(staff, shop):
    saved = _save(staff, "/console/branding/", display_name="Example Corp", **{
        "color-accent": "#0b3d91", "link-privacy": "https://corp.example/privacy",
        "logo": SimpleUploadedFile("logo.png", png(), content_type="image/png")})
    assert saved.status_code == 302, text_of(saved)
    shop.refresh_from_db()
    assert page_brand(shop).display_name == "Example Corp" and page_brand(shop).logo_url
    assert page_brand(shop).links == (("privacy", "https://corp.example/privacy"),)

    saved = _save(staff, "/console/applications/shop/brand/", display_name="Example Shop",
                  **{"color-accent": "#7a1f5c"})
    assert saved.status_code == 302, text_of(saved)
    shop.refresh_from_db()
    assert page_brand(shop).display_name == "Example Shop" and page_brand(shop).colours["accent"] == "#7a1f5c"
    # The default's logo and links still show where the application's brand sets none.
    assert page_brand(shop).logo_url and page_brand(shop).links
    page = staff.get("/console/applications/shop/brand/")
    html = page.content.decode()
    assert 'value="#7a1f5c"' in html and "Example Shop" in html and ' style=' not in html
    # The preview's colours come from a stylesheet built of checked values.
    sheet = re.search(r'href="(/console/branding/preview\.css\?[^"]+)"', html).group(1).replace("&amp;", "&")
    css = staff.get(sheet)
    assert css["Content-Type"].startswith("text/css") and "background: #7a1f5c" in css.content.decode()
    assert [(a.action, a.target_id, a.via) for a in AuditEntry.objects.order_by("id")] == [
        ("create", "(default)", "api"), ("create", "shop", "api")]

    # A change keeps the logo unless a new one is uploaded or it is removed.
    assert _save(staff, "/console/branding/", display_name="Example Corp", remove_logo="1").status_code == 302
    assert not Brand.objects.get(application__isnull=True).logo


def test_contrast_errors_show_beside_the_colours_and_nothing_is_saved(staff, shop):
    refused = _save(staff, "/console/applications/shop/brand/", **{"color-text": "#777777",
                                                                    "color-background": "#888888"})
    assert refused.status_code == 400
    html = refused.content.decode()
    error = re.search(r'<p class="field-error" id="colors-error"[^>]*>([^<]+)</p>', html).group(1)
    assert "contrast below 4.5:1" in error and "text on the page" in error
    assert "too low" in text_of(refused) and 'value="#777777"' in html  # what was typed stays in the form
    assert not Brand.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize("name, content, message", [
    ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "SVG"),
    ("logo.jpg", png(), "named .jpg but its content is PNG"),
    ("logo.png", png(8, 8), "each side must be"),
    ("logo.png", png() + b"\x00" * (300 * 1024), "too large"),
])
def test_a_bad_logo_is_refused_at_its_field(staff, name, content, message):
    refused = _save(staff, "/console/branding/", display_name="Corp",
                    logo=SimpleUploadedFile(name, content, content_type="image/png"))
    assert refused.status_code == 400
    assert message in re.search(r'id="logo-error">([^<]+)<', refused.content.decode()).group(1)
    assert not Brand.objects.exists()


def test_a_stale_page_is_refused_and_the_brand_kept(staff, shop):
    first = staff.get("/console/branding/")
    assert _save(staff, "/console/branding/", display_name="One").status_code == 302
    stale = staff.post("/console/branding/", {"csrfmiddlewaretoken": token(staff), "etag": etag_on(first),
                                              "display_name": "Two"})
    assert stale.status_code == 400 and "Someone changed this brand" in text_of(stale)
    assert Brand.objects.get().display_name == "One"


def test_only_staff_with_the_permission_may_change_brands(staff, shop):
    clerk = User.objects.create_user(username="clerk", password="a long and unusual pass phrase 42", is_staff=True)
    browser = Client()
    sign_in_to_console(browser, clerk)
    assert browser.get("/console/branding/").status_code == 403
    anonymous = Client().get("/console/applications/shop/brand/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    assert staff.get("/console/applications/nobody/brand/").status_code == 404
