"""Signing in to the admin console, which opens to sessions that signed in through the account application: the
test client (sign_in_to_console), and a Chromium page for the console's browser tests (the `console` fixture)."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from authflow.configuration.account import account_application
from authflow.sso import service as sso
from authflow.sso.models import UserSession


def sign_in_to_console(client, user) -> None:
    """force_login, plus what the console asks: this session signed in to the account application."""
    client.force_login(user)
    session = UserSession.objects.get(pk=client.session[sso.SESSION_KEY])
    sso.record_flow(session, account_application(), user.get_username(), [])


@pytest.fixture
def staff(admin_user) -> Client:
    """A test client signed in to the console as admin_user, with CSRF checks on as a browser meets them."""
    browser = Client(enforce_csrf_checks=True)
    sign_in_to_console(browser, admin_user)
    return browser


@dataclass
class ConsolePage:
    """A Chromium page signed in to the console; `refused` collects the Content-Security-Policy refusals it logs."""
    page: object
    base: str
    refused: list = field(default_factory=list)


def open_console(browser, base: str, user) -> ConsolePage:
    """A new browser context whose session cookie is a console session of `user`, and a page in it."""
    signed_in = Client()
    sign_in_to_console(signed_in, user)
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context()
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "domain": urlsplit(base).hostname,
                          "path": "/"}])
    console = ConsolePage(page=context.new_page(), base=base)
    console.page.on("console", lambda message: console.refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
    return console


@pytest.fixture
def console(chromium, live_server, admin_user) -> ConsolePage:
    """admin_user's console in Chromium, on the live server (import it with `chromium` from tests.support)."""
    return open_console(chromium, live_server.url, admin_user)


DEMO_PASSWORD = "carol-password-123"


def apply_demo(base: str, tmp_path, script: str, roles: list[str]):
    """The demo application (served under /demo/) on `script`, steps a password then an authenticator app, and
    carol with `roles` and a confirmed authenticator app; returns her TOTP device."""
    from authflow.directory.models import User
    from authflow.factors.models import TotpDevice

    config = {
        "applications": [{
            "name": "demo", "client_id": "demo-client", "client_type": "public",
            "redirect_uris": [base + "/demo/callback"],
            "steps": {1: ["BasicAuthenticator"], 2: ["totp"]}, "script": script}],
        "users": [{"username": "carol", "password": DEMO_PASSWORD, "roles": roles}],
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    device = TotpDevice.start(User.objects.get(username="carol"))
    device.confirmed = True
    device.save()
    return device


def sign_in_at_the_demo(browser, base: str, device=None) -> list[str]:
    """carol signs in at the demo application in a browser context of her own; returns the pages she was asked
    for ("password", then "authenticator app code" when the script asks for it)."""
    from django_otp.oath import totp

    page = browser.new_context().new_page()
    asked = ["password"]
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=code], #signed-in-as")
    if page.locator("input[name=code]").count():
        asked.append("authenticator app code")
        page.fill("input[name=code]", f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}")
        page.get_by_role("button", name="Verify").click()
        page.wait_for_selector("#signed-in-as")
    assert page.inner_text("#signed-in-as") == "carol"
    page.context.close()
    return asked
