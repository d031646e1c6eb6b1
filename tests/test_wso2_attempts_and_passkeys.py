"""Templates of the reference that depend on the server keeping state: the login-attempts step-up
(identity/failedLoginAttemptsBeforeSuccess) and passkey progressive enrollment, through real logins."""
import io
import json
import os
import re
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from authflow.celery import app
from authflow.directory.models import User
from authflow.flows.models import LoginFlow
from authflow.passkeys.models import Passkey
from tests.support.config import public_app
from tests.support.webauthn import SoftAuthenticator, page_options
from tests.test_email_otp import begin, password

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTS = Path(__file__).parent / "scripts" / "wso2"
BEFORE_SUCCESS = "http://wso2.org/claims/identity/failedLoginAttemptsBeforeSuccess"
APPS = [
    ("attempts", "{1: [BasicAuthenticator], 2: [sms-otp-authenticator]}",
     (SCRIPTS / "attempts_step_up.js").read_text()),
]
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com,
         claims: {"http://wso2.org/claims/mobile": "+15550104567"}}
""")


@pytest.fixture
def site(live_server, tmp_path, monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + "".join(public_app(*a) for a in APPS) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    settings.AUTHFLOW_SMS_SENDER = "console"
    return live_server.url


KEEP = ("form_token", "position", "option", "ceremony")


def alice():
    return User.objects.get(username="alice")


def texted_code(capsys):
    return re.findall(r"SMS to \S+ from authflow: (\d{6}) is your sign-in code", capsys.readouterr().out)[-1]


def test_three_wrong_passwords_before_the_right_one_step_up_and_the_count_is_reset_after(site, capsys):
    browser = begin(site, "attempts")
    for _ in range(3):
        page = password(browser, secret="not-the-password")
        assert "Check your phone" not in page.text and page.callback is None
    page = password(browser)
    assert "Check your phone" in page.text  # stepped up
    user = alice()
    assert user.failed_login_attempts == 0 and user.failed_login_attempts_before_success == 3
    done = browser.submit({"code": texted_code(capsys)})
    assert done.callback and "code=" in done.callback
    assert alice().failed_login_attempts_before_success == 0  # the template set it back once the step-up passed
    # the next login with the right password at once: no step-up
    browser = begin(site, "attempts")
    assert password(browser).callback


def test_fewer_wrong_passwords_sign_in_without_the_second_step(site, capsys):
    browser = begin(site, "attempts")
    for _ in range(2):
        password(browser, secret="not-the-password")
    done = password(browser)
    assert done.callback and "code=" in done.callback
    assert alice().failed_login_attempts_before_success == 2
    assert "SMS to" not in capsys.readouterr().out


def test_failures_in_earlier_logins_count_and_a_clean_success_keeps_the_value(site, capsys):
    for _ in range(3):  # three logins abandoned after a wrong password each
        password(begin(site, "attempts"), secret="not-the-password")
    assert alice().failed_login_attempts == 3
    page = password(begin(site, "attempts"))
    assert "Check your phone" in page.text
    User.objects.filter(username="alice").update(failed_login_attempts_before_success=4)
    done = password(begin(site, "attempts"))  # no failures before this success: the value is kept
    assert "Check your phone" in done.text and alice().failed_login_attempts_before_success == 4


# ---------------------------------------------------------------- passkey progressive enrollment

@pytest.fixture
def enrolling(site, tmp_path):
    # Not the console gallery's passkey_progressive_enrollment.js: this is the reference's template as WSO2
    # writes it (the options named, no enrollPasskey parameter), to show it runs here unmodified; the gallery's
    # own version (filterAuthenticators, enrollPasskey) is held to its decision by tests/test_console_gallery.py.
    path = tmp_path / "enroll.yaml"
    path.write_text("applications:\n" + public_app(
        "enroll", "{1: [BasicAuthenticator, FIDOAuthenticator]}",
        (SCRIPTS / "passkey_progressive_enrollment.js").read_text()) + public_app(
        "keyonly", "{1: [FIDOAuthenticator]}", "var onLoginRequest = function (context) { executeStep(1); };"))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    assert urlsplit(site).hostname == "localhost"  # a WebAuthn RP id must be a domain
    return site


def passkey_page(base, client_id="enroll"):
    browser = begin(base, client_id)
    if client_id == "enroll":
        browser.get(browser.page.url.split("?")[0] + "?option=1")  # the passkey option
    assert "Sign in with a passkey" in browser.page.text
    return browser


def webauthn_options(browser):
    return page_options(browser.page.text)


def test_a_user_without_a_passkey_asks_for_one_signs_in_with_a_password_and_registers_it(enrolling):
    browser = passkey_page(enrolling)
    assert "No passkey yet? Create one" in browser.page.text
    page = browser.submit({"action": "INIT_FIDO_ENROLL"})
    # the script's onFail ran step 1 again with the passkey option removed: the password page at once
    assert 'name="password"' in page.text and "?option=" not in page.text
    flow = LoginFlow.objects.get()
    assert [o["authenticator"] for o in flow.pending["options"]] == ["BasicAuthenticator"]
    assert User.objects.get(username="alice").failed_login_attempts == 0  # the request is not a failure
    page = password(browser)
    assert "Set up a passkey" in page.text  # the passkey step again: it honours the request
    key = SoftAuthenticator(enrolling, counter=1)
    done = browser.submit({"credential": json.dumps(key.create(webauthn_options(browser)["publicKey"]))},
                          keep=KEEP)
    assert done.callback and "code=" in done.callback
    assert Passkey.objects.get(credential_id=key.credential_id).user.username == "alice"
    # and the next login uses it, without a username
    browser = passkey_page(enrolling)
    done = browser.submit({"credential": json.dumps(key.get(webauthn_options(browser)["publicKey"]))}, keep=KEEP)
    assert done.callback and "code=" in done.callback


def test_a_user_with_a_passkey_who_asks_registers_another_one(enrolling):
    first = SoftAuthenticator(enrolling)
    first.user_handle = os.urandom(32)
    Passkey.objects.create(user=User.objects.get(username="alice"), credential_id=first.credential_id,
                           public_key=bytes(first.credential_data), user_handle=first.user_handle, sign_count=0,
                           name="first", discoverable=True)
    browser = passkey_page(enrolling)
    browser.submit({"action": "INIT_FIDO_ENROLL"})
    page = password(browser)
    assert "Set up a passkey" in page.text  # not "confirm with your passkey": the request is honoured
    second = SoftAuthenticator(enrolling)
    options = webauthn_options(browser)["publicKey"]
    assert [c["id"] for c in options["excludeCredentials"]]  # the first is not registered again
    done = browser.submit({"credential": json.dumps(second.create(options))}, keep=KEEP)
    assert done.callback and Passkey.objects.filter(user__username="alice").count() == 2


def test_without_the_enrollment_request_the_password_signs_in_and_nothing_is_registered(enrolling):
    browser = begin(enrolling, "enroll")
    browser.get(browser.page.url.split("?")[0] + "?option=0")
    done = password(browser)
    assert done.callback and "code=" in done.callback and not Passkey.objects.exists()


def test_a_passkey_only_step_offers_no_enrollment_and_a_forged_request_is_refused(enrolling):
    browser = passkey_page(enrolling, "keyonly")
    assert "Create one" not in browser.page.text  # no other way to sign in first
    page = browser.submit({"action": "INIT_FIDO_ENROLL"})
    # nothing verified the user: the step fails (without onFail, shown again); nothing to enroll
    assert "Sign in with a passkey" in page.text and "Set up a passkey" not in page.text
    assert not Passkey.objects.exists()
