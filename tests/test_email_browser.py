"""Email sign-ins in a real browser (Debian's Chromium via Playwright) through the demo relying party.

The codes and links come from the messages the real Celery worker sent to
the test's SMTP server.  Screenshots land in test-artifacts/screenshots/.
"""
import io
import os
from contextlib import contextmanager

import pytest
import yaml
from django.core.management import call_command

from tests.support.chromium import launch, screenshot
from tests.support.worker import mail_worker, mailer  # noqa: F401  (fixtures)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD_THEN_CODE = """
var onLoginRequest = function (context) {
    executeStep(1);
    executeStep(2, {authenticatorParams: {local: {'email-otp': {enableRetryFromAuthenticator: true}}}}, {});
};
"""
LINK = "var onLoginRequest = function (context) { executeStep(1); };"


@pytest.fixture
def demo(live_server, mailer, tmp_path):
    """configure(steps, script) sets up the demo application (before the browser starts: `apply` checks the
    script with V8, which refuses to run inside Playwright's event loop); then `with chromium() as browser`."""
    def configure(steps, script):
        config = {
            "applications": [{"name": "demo", "client_id": "demo-client", "client_type": "public",
                              "redirect_uris": [live_server.url + "/demo/callback"], "steps": steps,
                              "script": script}],
            "users": [{"username": "alice", "password": "alice-password-123", "email": "alice@example.com",
                       "first_name": "Alice"}],
        }
        path = tmp_path / "demo.yaml"
        path.write_text(yaml.safe_dump(config))
        call_command("apply", "-f", str(path), stdout=io.StringIO())

    return live_server.url, mailer, configure


@contextmanager
def chromium():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def start(page, base):
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()


def test_a_password_then_the_code_from_the_email(demo):
    base, mailer, configure = demo
    configure({1: ["BasicAuthenticator"], 2: ["email-otp"]}, PASSWORD_THEN_CODE)
    with chromium() as browser:
        sign_in_with_a_code(browser.new_page(), base, mailer)


def sign_in_with_a_code(page, base, mailer):
    start(page, base)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=code]")
    assert "a***@example.com" in page.inner_text("#sent-to")
    screenshot(page, "email-otp-01-check-your-email")
    code = mailer.inbox.wait_for(lambda m: m.to == ["alice@example.com"]).code()
    page.fill("input[name=code]", "000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("[role=alert]")
    screenshot(page, "email-otp-02-wrong-code")
    assert "The code is not correct." in page.inner_text("[role=alert]")
    page.fill("input[name=code]", code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("#signed-in-as")
    screenshot(page, "email-otp-03-signed-in")
    assert page.inner_text("#signed-in-as") == "alice"


def test_a_magic_link_opened_in_the_same_browser_and_in_another_one(demo):
    base, mailer, configure = demo
    configure({1: ["MagicLinkAuthenticator"]}, LINK)
    with chromium() as browser:
        sign_in_with_a_link(browser, base, mailer)


def sign_in_with_a_link(browser, base, mailer):
    mine = browser.new_context()
    page = mine.new_page()
    start(page, base)
    page.fill("input[name=identifier]", "alice")
    screenshot(page, "magic-link-01-identifier")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_selector("text=Check your email")
    screenshot(page, "magic-link-02-check-your-email")
    link = mailer.inbox.wait_for(lambda m: m.to == ["alice@example.com"]).link()

    elsewhere = browser.new_context()
    other = elsewhere.new_page()
    other.goto(link)
    other.wait_for_selector("h1")
    screenshot(other, "magic-link-03-another-browser")
    assert other.inner_text("h1") == "Open the link in the browser where you started signing in"
    elsewhere.close()

    tab = mine.new_page()  # as a mail client opens links: a new tab of the same browser
    tab.goto(link)
    tab.wait_for_selector("#signed-in-as")
    screenshot(tab, "magic-link-04-signed-in")
    assert tab.inner_text("#signed-in-as") == "alice"
    tab.goto(link)  # a second time: used up
    assert "already used" in tab.inner_text("h1")
    mine.close()
