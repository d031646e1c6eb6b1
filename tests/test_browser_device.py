"""The new-device pattern in a real browser: a signed cookie remembers the device, an unknown one gets an email.

Chromium keeps the cookie the script set between two logins; the email comes
from the real Celery worker through the test's SMTP server.
"""
import io
import os

import pytest
import yaml
from django.core.management import call_command
from django.db import connections

from authflow.flows.models import EffectRecord

from tests.support.chromium import launch, screenshot
from tests.support.worker import mail_worker, mailer  # noqa: F401  (fixtures)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        if (getCookieValue(context.request, 'known-device', {validateSignature: true}) !== user.username) {
            sendEmail(user, 'new-sign-in', {application: context.serviceProviderName, ip: context.request.ip});
            setCookie(context.response, 'known-device', user.username, {sign: true, 'max-age': 86400, httpOnly: true});
        }
    }});
};
"""


@pytest.fixture
def demo(live_server, mailer, tmp_path):
    config = {"applications": [{"name": "demo", "client_id": "demo-client", "client_type": "public",
                                "redirect_uris": [live_server.url + "/demo/callback"],
                                "steps": {1: ["BasicAuthenticator"]}, "script": SCRIPT}],
              "users": [{"username": "alice", "password": "alice-password-123", "email": "alice@example.com"}]}
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    return live_server.url, mailer


def sign_in(page, base):
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#signed-in-as")


def sign_out(page, base):
    """Out of the provider (its account page's Sign out) and of the demo application (its own cookie)."""
    page.goto(base + "/account/")
    page.locator(".account-nav").get_by_role("button", name="Sign out").click()
    page.wait_for_selector("text=You are signed out")
    page.context.clear_cookies(name="demo_rp")


def test_an_email_for_a_new_device_and_none_for_a_known_one(demo):
    base, mailer = demo
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            laptop = browser.new_context()
            page = laptop.new_page()
            sign_in(page, base)
            first = mailer.inbox.wait_for(lambda m: "New sign-in" in m.subject)
            assert first.to == ["alice@example.com"] and "demo" in first.text
            cookie = next(c for c in laptop.cookies() if c["name"] == "known-device")
            assert cookie["httpOnly"] and cookie["value"].startswith("s1.") and "alice" not in cookie["value"]
            sign_out(page, base)
            sign_in(page, base)  # the same browser: the cookie verifies, no email
            screenshot(page, "13-known-device-signed-in")
            assert EffectRecord.objects.filter(name="sendEmail").count() == 1
            phone = browser.new_context()
            sign_in(phone.new_page(), base)  # another browser: a new device
            assert EffectRecord.objects.filter(name="sendEmail").count() == 2
            mailer.inbox.wait_for(lambda m: "New sign-in" in m.subject, count=2)
        finally:
            browser.close()
            connections.close_all()  # the ORM calls made inside Playwright's loop opened a connection of their own
