"""Second factors over HTTP: TOTP (enrollment during login, drift, no reuse, throttling) and backup codes."""
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

from authflow.directory.models import User
from authflow.directory.services import user_snapshot
from authflow.factors.models import FREE_TRIES, BackupCodeDevice, TotpDevice
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = "http://wso2.org/claims/identity/failedLoginAttempts"
STEPS = "{1: [BasicAuthenticator, IdentifierExecutor], 2: [totp], 3: [backup-code-authenticator]}"
# Password, then TOTP; when TOTP fails the script offers a backup code.
SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {authenticationOptions: [{authenticator: 'BasicAuthenticator'}]}, {onSuccess: function () {
        executeStep(2, {onFail: function (context) {
            Log.info('totp failed: ' + context.request.params.code);
            executeStep(3);
        }});
    }});
};
"""
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com}
      - {username: bob, password: "bob-password-12345"}
""")


@pytest.fixture
def site(live_server, tmp_path, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # throttling has its own test

    def configure(*apps):
        path = tmp_path / "config.yaml"
        path.write_text("applications:\n" + "".join(apps) + "- {name: account, client_id: account, client_type: public, "
                        "steps: {1: [BasicAuthenticator]}}\n" + USERS)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
        return live_server.url, discovery
    return configure


def begin(base, discovery, client_id="mfa"):
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48))
    return browser, browser.get(uri)


def password(browser, user="alice", secret="alice-password-123"):
    return browser.submit({"username": user, "password": secret})


def code_for(secret_text: str, offset_steps: int = 0) -> str:
    key = base64.b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    return f"{totp(key, t0=0, step=30, digits=6, drift=offset_steps):06d}"


def shown_secret(page) -> str:
    return unescape(re.search(r'id="totp-secret">([^<]+)<', page.text).group(1))


def enroll(base, discovery):
    """Sign alice in, setting up TOTP; returns (the secret, the backup codes shown)."""
    browser, _ = begin(base, discovery)
    page = password(browser)
    secret = shown_secret(page)
    page = browser.submit({"code": code_for(secret)})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.text)
    done = browser.submit({"action": "codes_saved"})
    assert done.callback and "code=" in done.callback
    return secret, codes


def test_a_user_without_totp_sets_it_up_during_the_login(site):
    base, discovery = site(public_app("mfa", STEPS, SCRIPT))
    browser, _ = begin(base, discovery)
    page = password(browser)
    assert "Set up your authenticator app" in page.text and "<svg" in page.text and "QR code" in page.text
    secret = shown_secret(page)
    page = browser.submit({"code": "000000" if code_for(secret) != "000000" else "111111"})
    assert "The code is not correct" in page.text and "Set up your authenticator app" in page.text
    assert shown_secret(page) == secret  # the same key until it is confirmed
    page = browser.submit({"code": code_for(secret)})
    assert "Your authenticator app is set up" in page.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    done = browser.submit({"action": "codes_saved"})
    assert done.callback and "code=" in done.callback
    device = TotpDevice.objects.get(user__username="alice")
    assert device.confirmed
    raw = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    stored = device.encrypted_seed
    assert secret.replace(" ", "") not in stored and raw.hex() not in stored  # kept encrypted
    assert all(c.replace("-", "") not in str(list(BackupCodeDevice.objects.get().codes.values_list("digest")))
               for c in codes)


def test_totp_login_with_drift_and_no_reuse(site):
    base, discovery = site(public_app("mfa", STEPS, SCRIPT))
    secret, _ = enroll(base, discovery)
    browser, _ = begin(base, discovery)
    page = password(browser)
    assert "Code from your authenticator app" in page.text
    ahead = code_for(secret, offset_steps=1)  # a phone 30 s ahead
    done = browser.submit({"code": ahead})
    assert done.callback and "code=" in done.callback
    # the same code (or an older one) is not accepted again
    browser, _ = begin(base, discovery)
    password(browser)
    page = browser.submit({"code": ahead})
    assert page.callback is None and "Enter a backup code" in page.text  # onFail offered step 3
    assert user_snapshot("alice")["claims"][FAILED] == "1"


def test_a_wrong_code_retried_on_the_page_when_the_script_asks(site):
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {authenticationOptions: [{authenticator: 'BasicAuthenticator'}]}, {onSuccess: function () {
            executeStep(2, {authenticatorParams: {local: {totp: {enableRetryFromAuthenticator: 'true'}}}},
                        {onFail: function () { fail({errorCode: 'access_denied', errorMessage: 'TOTP failed'}); }});
        }});
    };
    """
    base, discovery = site(public_app("mfa", STEPS, SCRIPT), public_app("strict", STEPS, script))
    secret, _ = enroll(base, discovery)
    browser, page = begin(base, discovery, "strict")
    password(browser)
    position = browser.hidden_fields()["position"]
    page = browser.submit({"code": "12345"})
    assert "The code is not correct." in page.text and browser.hidden_fields()["position"] == position
    assert user_snapshot("alice")["claims"][FAILED] == "1"
    done = browser.submit({"code": code_for(secret, offset_steps=1)})
    assert done.callback and "code=" in done.callback


def test_wrong_codes_slow_down(site, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 30
    base, discovery = site(public_app("mfa", STEPS, """
        var onLoginRequest = function (context) {
            executeStep(1, {authenticationOptions: [{authenticator: 'BasicAuthenticator'}]}, {});
            executeStep(2);
        };
    """))
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    secret, _ = enroll(base, discovery)
    settings.OTP_TOTP_THROTTLE_FACTOR = 30
    browser, _ = begin(base, discovery)
    password(browser)
    for _ in range(FREE_TRIES):
        page = browser.submit({"code": "000001"})
        assert "The code is not correct." in page.text
    page = browser.submit({"code": code_for(secret, offset_steps=1)})  # right, but too soon
    assert page.callback is None and "Too many wrong codes in a row. Wait" in page.text and " seconds before" in page.text


CHOICE = "{1: [BasicAuthenticator], 2: [totp, backup-code-authenticator]}"


def test_a_second_factor_page_stays_after_a_miss_and_tells_a_reused_code_from_a_wrong_one(site, settings):
    base, discovery = site(public_app("mfa", STEPS, SCRIPT), public_app(
        "choice", CHOICE, "var onLoginRequest = function (context) { executeStep(1); executeStep(2); };"))
    secret, _ = enroll(base, discovery)
    settings.OTP_TOTP_THROTTLE_FACTOR = 1  # as configured
    browser, _ = begin(base, discovery, "choice")
    page = password(browser)
    assert "Confirm it's you" in page.text and "Choose how to sign in" not in page.text
    assert 'id="known-user">alice<' in page.text and "Authenticator app" in page.text
    browser.get(page.url + "?option=0")
    page = browser.submit({"code": "000001" if code_for(secret, 1) != "000001" else "000002"})
    assert "The code is not correct." in page.text and "Code from your authenticator app" in page.text
    ahead = code_for(secret, offset_steps=1)
    done = browser.submit({"code": ahead})  # one miss does not slow the next try down
    assert done.callback and "code=" in done.callback
    browser, _ = begin(base, discovery, "choice")
    password(browser)
    browser.get(browser.page.url + "?option=0")
    page = browser.submit({"code": ahead})  # right a minute ago: a replay
    assert "This code was already used. Wait for the next code" in page.text
    assert "Code from your authenticator app" in page.text
    for _ in range(FREE_TRIES - 1):
        page = browser.submit({"code": "000001" if ahead != "000001" else "000002"})
    page = browser.submit({"code": code_for(secret, offset_steps=1)})
    assert "Too many wrong codes in a row. Wait 4 seconds before trying again." in page.text or \
        "Too many wrong codes in a row. Wait 3 seconds before trying again." in page.text


def test_backup_codes_work_once_each(site):
    base, discovery = site(public_app("mfa", STEPS, SCRIPT))
    _, codes = enroll(base, discovery)
    browser, _ = begin(base, discovery)
    password(browser)
    page = browser.submit({"code": "999999"})  # TOTP fails: the script offers a backup code
    assert "Enter a backup code" in page.text
    done = browser.submit({"code": codes[0].upper().replace("-", " ")})
    assert done.callback and "code=" in done.callback
    browser, _ = begin(base, discovery)
    password(browser)
    browser.submit({"code": "999999"})
    page = browser.submit({"code": codes[0]})
    assert page.callback is None and "This backup code was already used" in page.text
    page = browser.submit({"code": "aaaaa-aaaaa"})
    assert page.callback is None and "The backup code is not correct." in page.text
    assert BackupCodeDevice.objects.get().remaining() == 9


def test_without_backup_codes_the_step_says_so_and_the_script_decides(site):
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {authenticationOptions: [{authenticator: 'BasicAuthenticator'}]}, {onSuccess: function () {
            executeStep(3, {onFail: function (context) {
                fail({errorCode: 'access_denied', errorMessage: 'No backup codes: ' + context.request.params.code});
            }});
        }});
    };
    """
    base, discovery = site(public_app("codes", STEPS, script))
    browser, _ = begin(base, discovery, "codes")
    page = password(browser, "bob", "bob-password-12345")
    assert "Backup code is not set up" in page.text
    done = browser.submit({"action": "not_enrolled"})
    assert "error=access_denied" in done.callback and "No+backup+codes" in done.callback


def test_before_a_credential_is_checked_nothing_about_the_account_is_shown(site):
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {authenticationOptions: [{authenticator: 'IdentifierExecutor'}]}, {});
        executeStep(2);
    };
    """
    base, discovery = site(public_app("idf", STEPS, script))
    browser, _ = begin(base, discovery, "idf")
    page = browser.submit({"username": "bob"})  # bob has no TOTP, but nothing was checked yet
    assert "Code from your authenticator app" in page.text and "Set up" not in page.text
    page = browser.submit({"code": "123456"})
    assert page.callback is None and "not correct" in page.text
    assert not TotpDevice.objects.exists()


def test_the_account_page_shows_and_changes_second_factors(site):
    base, discovery = site(public_app("mfa", STEPS, SCRIPT))
    secret, codes = enroll(base, discovery)
    browser = Browser(base)
    browser.get("/account/")
    page = password(browser)
    assert "Authenticator app:\n    set up" in page.text and "10 unused" in page.text
    page = browser.submit({}, url=f"{base}/account/two-factor/backup-codes/", keep=("csrfmiddlewaretoken",))
    new_codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    page = browser.get("/account/")
    assert "10 unused" in page.text and "Make new backup codes" in page.text
    page = browser.submit({}, url=f"{base}/account/two-factor/totp/remove/", keep=("csrfmiddlewaretoken",))
    assert "The authenticator app was removed" in page.text and "not set up" in page.text
    assert not TotpDevice.objects.exists()
    # with the app removed, the next login sets one up again
    again, _ = begin(base, discovery)
    assert "Set up your authenticator app" in password(again).text
    assert User.objects.get(username="alice").is_active


def test_changing_second_factors_needs_a_recent_sign_in(site):
    from datetime import timedelta

    from django.utils import timezone

    from authflow.sso.models import UserSession

    base, discovery = site(public_app("mfa", STEPS, SCRIPT))
    enroll(base, discovery)
    browser = Browser(base)
    browser.get("/account/")
    password(browser)
    UserSession.objects.update(login_at=timezone.now() - timedelta(minutes=20))
    page = browser.submit({}, url=f"{base}/account/two-factor/totp/remove/", keep=("csrfmiddlewaretoken",))
    assert 'name="password"' in page.text  # the session does not answer: sign in again
    assert TotpDevice.objects.filter(confirmed=True).exists()
    page = password(browser)
    assert "sign in again, then repeat" in page.text
    page = browser.submit({}, url=f"{base}/account/two-factor/totp/remove/", keep=("csrfmiddlewaretoken",))
    assert "The authenticator app was removed" in page.text and not TotpDevice.objects.exists()
