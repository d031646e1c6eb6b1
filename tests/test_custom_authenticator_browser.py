"""A custom authenticator as a login step in a real browser (Debian's Chromium via Playwright)."""
import io
import os

import pytest
import yaml
from django.core.management import call_command

from authflow.custom_authenticators import services
from authflow.directory.models import User
from tests.support.chromium import launch, screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        executeStep(2, {authenticationOptions: [{authenticator: 'badge'}]}, {});
    }});
};
"""
REGISTRATION = "function execute(p, u) { return {status: 2000, registrationData: p}; }"
AUTHENTICATION = "function execute(p, u, d) { return {status: p.equals(d) ? 2000 : 4000, responsePayload: ''}; }"


@pytest.fixture
def demo(live_server, tmp_path):
    config = {
        "custom_authenticators": [{"name": "badge", "display_name": "Office badge", "max_failed_attempts": 3,
                                   "registration_script": REGISTRATION, "authentication_script": AUTHENTICATION}],
        "applications": [{
            "name": "demo", "client_id": "demo-client", "client_type": "public",
            "redirect_uris": [live_server.url + "/demo/callback"],
            "steps": {1: ["BasicAuthenticator"], 2: ["badge"]}, "script": SCRIPT}],
        "users": [{"username": "carol", "password": "carol-password-123"}],
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    authenticator = services.enabled_authenticator("badge")
    assert services.register(authenticator, User.objects.get(username="carol"), "badge-7731").succeeded
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield live_server.url, browser
        finally:
            browser.close()


def test_sign_in_with_a_password_then_the_custom_authenticator(demo):
    base, browser = demo
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", "carol-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=request_payload]")
    assert page.inner_text("#page-title") == "Office badge"
    screenshot(page, "30-custom-authenticator")
    page.fill("input[name=request_payload]", "badge-0000")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("p.error")
    assert "Attempts left: 2" in page.inner_text("p.error")  # no onFail: the step is shown again
    page.fill("input[name=request_payload]", "badge-7731")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#signed-in-as")
    assert page.inner_text("#signed-in-as") == "carol"
    context.close()
