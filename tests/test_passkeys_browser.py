"""Passkeys in a real browser: Debian's Chromium with its virtual authenticator (Chrome DevTools Protocol).

The virtual authenticator is a platform authenticator with resident keys and
user verification that answers by itself (automaticPresenceSimulation), so
the pages' own script (static/js/passkey.js) runs the ceremonies as it would
with a phone or a security key.  The relying party id is the live server's
host name, localhost.  Screenshots land in test-artifacts/screenshots/.
"""
import io
import os
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connections

from authflow.passkeys.models import Passkey
from tests.support.chromium import launch, screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls around Playwright's event loop
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

# Step 1: a password or a passkey (usernameless); after a password, a passkey as the second step (set up on the
# spot when the user has none).
SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        if (context.steps[1].authenticator == 'BasicAuthenticator') {
            executeStep(2, {onFail: function () {
                fail({errorCode: 'access_denied', errorMessage: 'This application needs a passkey.'});
            }});
        }
    }});
};
"""


@pytest.fixture
def site(live_server, tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    assert urlsplit(live_server.url).hostname == "localhost"  # a WebAuthn RP id must be a domain, not 127.0.0.1
    config = {
        "applications": [{
            "name": "demo", "client_id": "demo-client", "client_type": "public",
            "redirect_uris": [live_server.url + "/demo/callback"],
            "steps": {1: ["BasicAuthenticator", "FIDOAuthenticator"], 2: ["FIDOAuthenticator"]}, "script": SCRIPT,
        }, {"name": "account", "client_id": "account", "client_type": "public", "steps": {1: ["BasicAuthenticator"]}}],
        "users": [{"username": "alice", "password": "alice-password-123", "email": "alice@example.com"}],
    }
    import yaml

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield live_server.url, browser
        finally:
            browser.close()
            # ORM calls made while Playwright's loop runs get a connection of their own: close it here, or
            # the test database cannot be dropped at the end of the run.
            connections.close_all()


class VirtualAuthenticator:
    """Chromium's virtual WebAuthn authenticator, attached to one page."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]


def start_demo_sign_in(page, base):
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=Choose how to sign in")


def sign_out(page, base):
    """Out of the demo application and (RP-initiated logout) out of the provider."""
    page.goto(base + "/demo/")
    page.locator("#page-title + p + table + form").get_by_role("button", name="Sign out").click()
    signed_out = page.get_by_role("button", name="Sign in")
    confirm = page.locator("button[name=allow]")  # the provider asks unless the ID token names the session
    signed_out.or_(confirm).wait_for()
    if confirm.is_visible():
        confirm.click()
    signed_out.wait_for()


def test_a_passkey_set_up_during_a_login_then_signs_in_without_a_username(site):
    base, browser = site
    page = browser.new_page()
    authenticator = VirtualAuthenticator(page)
    start_demo_sign_in(page, base)
    screenshot(page, "passkey-01-choose")
    page.get_by_role("link", name="Username & Password").click()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    # no passkey yet: the second step sets one up
    page.wait_for_selector("text=Set up a passkey")
    page.fill("#passkey-name", "This laptop")
    screenshot(page, "passkey-02-enroll")
    page.get_by_role("button", name="Create a passkey").click()
    page.wait_for_selector("#signed-in-as")
    assert page.inner_text("#signed-in-as") == "alice"
    [credential] = authenticator.credentials()
    passkey = Passkey.objects.get()
    assert credential["isResidentCredential"] and passkey.discoverable and passkey.name == "This laptop"
    assert passkey.user.username == "alice" and passkey.sign_count == credential["signCount"]

    sign_out(page, base)
    start_demo_sign_in(page, base)
    # usernameless: the passkey page starts the ceremony by itself and the authenticator says who it is
    page.get_by_role("link", name="Security Key/Biometrics").click()
    page.wait_for_selector("#signed-in-as")
    screenshot(page, "passkey-03-signed-in-with-passkey")
    assert page.inner_text("#signed-in-as") == "alice"
    passkey.refresh_from_db()
    [credential] = authenticator.credentials()
    assert passkey.last_used_at is not None and passkey.sign_count == credential["signCount"]

    # and as the second step after a password, without any page of ours in between
    sign_out(page, base)
    start_demo_sign_in(page, base)
    page.get_by_role("link", name="Username & Password").click()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#signed-in-as")
    assert Passkey.objects.get().sign_count == authenticator.credentials()[0]["signCount"]
    page.close()


def test_no_passkey_on_the_device_says_so_and_lets_the_user_go_on(site):
    base, browser = site
    page = browser.new_page()
    VirtualAuthenticator(page)  # holds no credential: the browser answers NotAllowedError
    start_demo_sign_in(page, base)
    page.get_by_role("link", name="Security Key/Biometrics").click()
    problem = page.locator("[data-passkey-problem]")
    problem.wait_for(state="visible")
    screenshot(page, "passkey-04-no-passkey")
    assert "No passkey was used" in problem.inner_text()
    assert page.get_by_role("button", name="Try again").is_visible()
    assert page.get_by_role("link", name="Choose another way to sign in").is_visible()
    assert page.get_by_role("button", name="Cancel").is_visible()
    # or the step fails (step 1 has no onFail: the choice is shown again, with the reason)
    page.get_by_role("button", name="I cannot use a passkey now").click()
    page.wait_for_selector("text=Choose how to sign in")
    assert "No passkey was used." in page.inner_text("[role=alert]")
    assert page.get_by_role("link", name="Username & Password").is_visible()
    page.close()


def test_a_browser_without_webauthn_is_told_so(site):
    base, browser = site
    context = browser.new_context()
    context.add_init_script("delete window.PublicKeyCredential;")
    page = context.new_page()
    start_demo_sign_in(page, base)
    page.get_by_role("link", name="Security Key/Biometrics").click()
    problem = page.locator("[data-passkey-problem]")
    problem.wait_for(state="visible")
    assert "This browser cannot use passkeys" in problem.inner_text()
    assert not page.get_by_role("button", name="Use a passkey", exact=True).is_visible()
    assert page.get_by_role("button", name="I cannot use a passkey now").is_visible()
    context.close()


def test_the_account_page_adds_renames_and_removes_a_passkey(site):
    base, browser = site
    page = browser.new_page()
    authenticator = VirtualAuthenticator(page)
    page.goto(base + "/account/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#passkeys-title")
    assert page.is_visible("#passkeys-none")
    page.fill("#new-passkey-name", "Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector("text=The passkey “Work laptop” was added.")
    screenshot(page, "passkey-05-account")
    passkey = Passkey.objects.get()
    assert page.input_value(f"#passkey-name-{passkey.pk}") == "Work laptop" and len(authenticator.credentials()) == 1
    # the same authenticator cannot hold a second one for the account
    page.get_by_role("button", name="Add a passkey").click()
    problem = page.locator("[data-passkey-problem]")
    problem.wait_for(state="visible")
    assert "already holds a passkey" in problem.inner_text() and Passkey.objects.count() == 1
    page.fill(f"#passkey-name-{passkey.pk}", "Old laptop")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_selector("text=is now called “Old laptop”")
    page.get_by_role("button", name="Remove Old laptop").click()
    page.wait_for_selector("text=The passkey “Old laptop” was removed")
    assert page.is_visible("#passkeys-none") and not Passkey.objects.exists()
    page.close()
