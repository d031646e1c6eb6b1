"""The console's brand page in Chromium under the Content-Security-Policy: a contrast error shown beside the
colours, a logo uploaded, and the preview coloured by the generated stylesheet (no CSP refusal)."""
import os

import pytest

from authflow.branding.models import Brand
from tests.support.chromium import chromium, screenshot  # noqa: F401  (chromium: a fixture)
from tests.support.console import console  # noqa: F401  (a fixture)
from tests.test_branding import png

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_administrator_fixes_a_contrast_error_uploads_a_logo_and_sees_the_preview(live_server, console, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    page, refused = console.page, console.refused
    page.goto(live_server.url + "/console/branding/")
    page.fill("#display_name", "Example Corp")
    page.fill("#color-accent", "#ffff00")
    page.click("#save-brand")
    error = page.locator("#colors-error")
    assert "links on the page" in error.inner_text() and "4.5:1" in error.inner_text()
    assert page.locator("#display_name").input_value() == "Example Corp"
    assert not Brand.objects.exists()

    page.fill("#color-accent", "#7a1f5c")
    page.set_input_files("#logo", str(logo))
    page.click("#save-brand")
    page.wait_for_selector(".console-messages:has-text('Saved the default brand')")
    page.wait_for_load_state("load")  # the element can be there before its stylesheet and the logo are
    expect(page.locator(".brand-preview-button")).to_have_css("background-color", "rgb(122, 31, 92)")
    assert page.locator("#current-logo").evaluate("e => e.complete && e.naturalWidth") == 64
    screenshot(page, "console-brand")
    assert refused == []
    brand = Brand.objects.get()
    assert (brand.display_name, brand.accent, brand.logo_width) == ("Example Corp", "#7a1f5c", 64)
