"""Signing in to the admin console: staff pass a second factor by default, whichever application they came from."""
import base64
import io
import re
import secrets
import textwrap
from html import unescape

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from django_otp.oath import totp

from authflow.applications.models import Application
from authflow.directory.models import User
from authflow.factors.models import TotpDevice
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db(transaction=True)

USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123"}
      - {username: bob, password: "bob-password-12345", is_staff: true}
""")


def code_for(secret: str, offset_steps: int = 0) -> str:
    secret = secret.replace(" ", "")
    return f"{totp(base64.b32decode(secret + '=' * (-len(secret) % 8)), drift=offset_steps):06d}"


def shown_secret(page) -> str:
    return unescape(re.search(r'id="totp-secret">([^<]+)<', page.text).group(1))


def is_console(page) -> bool:
    return page.status_code == 200 and page.url.endswith("/admin/") and "Site administration" in page.text


def test_the_seeded_account_application_asks_staff_for_a_second_factor_set_up_on_the_spot(live_server, settings):
    settings.DEBUG = True  # seed_demo runs on the embedded default only
    call_command("seed_demo", stdout=io.StringIO())
    browser = Browser(live_server.url)
    page = browser.get("/admin/")
    assert "Username &amp; Password" in page.text and "Security Key/Biometrics" in page.text
    page = browser.get(page.url + "?option=0")
    page = browser.submit({"username": "admin", "password": "demo-admin-password"})
    assert not is_console(page)
    assert "Authenticator app" in page.text and "Security Key/Biometrics" in page.text  # the second step's options
    page = browser.get(page.url + "?option=0")
    assert "Set up your authenticator app" in page.text
    page = browser.submit({"code": code_for(shown_secret(page))})
    assert "Your authenticator app is set up" in page.text
    page = browser.submit({"action": "codes_saved"})
    assert is_console(page)
    # people who are not staff sign in to their account page with a password alone
    browser = Browser(live_server.url)
    page = browser.get("/account/")
    browser.get(page.url + "?option=0")
    page = browser.submit({"username": "alice", "password": "demo-alice-password"})
    assert page.status_code == 200 and page.url.endswith("/account/") and "Your sessions" in page.text


@pytest.fixture
def portal(live_server, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}",
                                                   "var onLoginRequest = function (c) { executeStep(1); };") + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
    return live_server.url, discovery


def test_staff_signed_in_to_another_application_pass_the_account_application_s_second_factor(portal):
    base, discovery = portal
    bob = User.objects.get(username="bob")
    device = TotpDevice.start(bob)
    device.confirmed = True
    device.save()
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session("portal", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48))
    browser.get(uri)
    assert browser.submit({"username": "bob", "password": "bob-password-12345"}).callback  # password only
    assert not Application.objects.filter(name="account").exists()
    page = browser.get("/admin/")
    # the console needs the account application, created with its default: the password came from the session
    assert not is_console(page) and "Confirm it's you" in page.text and "Authenticator app" in page.text
    page = browser.get(page.url + "?option=0")
    assert "Code from your authenticator app" in page.text
    assert "urn:authflow:claims:staff" in Application.objects.get(name="account").sequence.published_version().source
    page = browser.submit({"code": "000000" if code_for(device.secret) != "000000" else "111111"})
    assert not is_console(page) and "not correct" in page.text and "Code from your authenticator app" in page.text
    page = browser.submit({"code": code_for(device.secret)})
    assert is_console(page)
