"""TOTP in a real browser (Debian's Chromium via Playwright): set it up during a login, then sign in with it."""
import io
import os

import pytest
import yaml
from django.core.management import call_command

from tests.support.chromium import launch, screenshot
from tests.support.totp import code_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        if (hasRole(context.currentKnownSubject, 'staff')) { executeStep(2); }
    }});
};
"""


@pytest.fixture
def demo(live_server, tmp_path, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code then the right one at once (throttling: test_factors)
    config = {
        "applications": [{
            "name": "demo", "client_id": "demo-client", "client_type": "public",
            "redirect_uris": [live_server.url + "/demo/callback"],
            "steps": {1: ["BasicAuthenticator"], 2: ["totp"]}, "script": SCRIPT}],
        "users": [{"username": "carol", "password": "carol-password-123", "roles": ["staff"]}],
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield live_server.url, browser
        finally:
            browser.close()


def password(page, base):
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", "carol-password-123")
    page.get_by_role("button", name="Sign in").click()


def test_set_up_totp_while_signing_in_then_sign_in_with_it(demo):
    base, browser = demo
    context = browser.new_context()
    page = context.new_page()
    password(page, base)
    page.wait_for_selector("text=Set up your authenticator app")
    assert page.locator(".qr svg").is_visible()
    screenshot(page, "10-totp-enroll")
    secret = page.inner_text("#totp-secret")
    page.fill("input[name=code]", code_for(secret))
    page.get_by_role("button", name="Set up and continue").click()
    page.wait_for_selector("#backup-codes")
    assert page.locator("#backup-codes li").count() == 10
    screenshot(page, "11-totp-backup-codes")
    page.get_by_role("button", name="I have saved them, continue").click()
    page.wait_for_selector("#signed-in-as")
    assert page.inner_text("#signed-in-as") == "carol"
    assert "otp" in page.inner_text("#claims")  # amr: pwd, otp, mfa
    context.close()

    # a new browser: password, then a code computed from the secret shown at setup
    page = browser.new_context().new_page()
    password(page, base)
    page.wait_for_selector("input[name=code]")
    screenshot(page, "12-totp-code")
    page.fill("input[name=code]", "000000" if code_for(secret, 1) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("[role=alert]")
    assert "not correct" in page.inner_text("[role=alert]")
    page.fill("input[name=code]", code_for(secret, 1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("#signed-in-as")
    assert page.inner_text("#signed-in-as") == "carol"
